/**
 * The reset token of a password-reset link.
 *
 * The email links to `/reset-password#token=…`: a fragment, which browsers
 * send to no server, so the token stays out of access logs and `Referer`
 * headers. It is read here, in the page's script, and nowhere else.
 */
export function tokenFromFragment(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const token = params.get("token")?.trim();
  return token ? token : null;
}
