/** A field's path in an error is cut to this many characters: a field's name is the caller's input, never echoed at length (L3). */
const MAX_FIELD_PATH = 64;

/** At most this many problems are listed in an error; the others are counted. */
const MAX_PROBLEMS = 20;

/** `path`, cut to {@link MAX_FIELD_PATH} characters (an ellipsis marks the cut). */
export function boundedFieldPath(path: string): string {
  return path.length > MAX_FIELD_PATH ? `${path.slice(0, MAX_FIELD_PATH - 1)}…` : path;
}

/** The first {@link MAX_PROBLEMS} problems, and how many more there were. */
export function boundedProblems(problems: string[]): string[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [...problems.slice(0, MAX_PROBLEMS), `and ${problems.length - MAX_PROBLEMS} more problems`];
}

/** The first {@link MAX_PROBLEMS} field paths (the problems say how many more there were). */
export function boundedFields(paths: string[]): string[] {
  return paths.slice(0, MAX_PROBLEMS);
}
