/**
 * Errors from the API as the app shows them.
 *
 * Every service answers failures with RFC 9457 problem details; a 422 also
 * names the offending fields (`errors: [{field, message}]`). `ApiError`
 * carries both, so a form can put each message next to its field and show
 * the rest above it.
 */

export interface FieldProblem {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldProblem[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(describe(status, problem));
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  /** Messages keyed by field name (`title`, `email`, `price`, …). */
  get fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const { field, message } of this.problem.errors ?? []) {
      const name = field.split(".").at(-1) ?? field;
      out[name] ??= readable(message);
    }
    return out;
  }
}

function readable(message: string): string {
  // Pydantic phrases ("String should have at least 8 characters") read fine
  // once the leading "Value error, " some validators add is dropped.
  return message.replace(/^Value error, /, "");
}

function describe(status: number, problem: Problem): string {
  if (status === 0) return "The server cannot be reached. Check your connection and try again.";
  if (status === 429) return "Too many attempts. Wait a moment, then try again.";
  if (status >= 500) return "Something went wrong on our side. Please try again.";
  return problem.detail || problem.title || `Request failed (${status})`;
}

export async function problemOf(response: Response): Promise<Problem> {
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    try {
      const body: unknown = await response.json();
      if (body && typeof body === "object") return body as Problem;
    } catch {
      // A body that is not JSON after all: fall back to the status line.
    }
  }
  return { status: response.status, title: response.statusText };
}

/** A message for any thrown value, for toasts and banners. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.name === "TypeError") return describe(0, {});
  return "Something went wrong. Please try again.";
}
