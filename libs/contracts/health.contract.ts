/** What a service says of itself when asked over NATS (`<service>.health`). */
export interface HealthView {
  service: string;
  ready: boolean;
  checks: Record<string, boolean>;
}
