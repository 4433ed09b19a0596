/** What a failed validation reports per problem (a zod issue has at least these). */
export interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * Validation problems as one short line, "exchange.category: Invalid option; +2 more": where and
 * what, never the offending values, which may be keys or secrets. `pathsOnly` leaves out the messages
 * too, for inputs whose every field is secret (credentials).
 */
export function formatIssues(
  issues: readonly Issue[],
  options: { readonly limit?: number; readonly pathsOnly?: boolean } = {},
): string {
  const limit = options.limit ?? issues.length;
  const shown = issues.slice(0, limit).map((i) => {
    const where = i.path.map(String).join('.') || '(root)';
    return options.pathsOnly === true ? where : `${where}: ${i.message}`;
  });
  const more =
    issues.length > limit ? `${options.pathsOnly === true ? ',' : ';'} +${issues.length - limit} more` : '';
  return `${shown.join(options.pathsOnly === true ? ', ' : '; ')}${more}`;
}
