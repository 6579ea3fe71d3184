import type { Queryable } from '../event-store/projection';
import { ANALYTICS_VERSION } from './analytics-schema';

interface CatalogRow {
  view: string;
  view_comment: string | null;
  column_name: string;
  column_type: string;
  column_comment: string | null;
}

/** Thrown when a view or column of the contract has no comment: the contract documents every one. */
export class UndocumentedAnalyticsColumn extends Error {
  readonly code = 'undocumented_analytics_column';
}

/**
 * `docs/analytics.md`, generated from the catalog comments of a deployment's analytics schema:
 * the schema's comment, then each view (by name) with its columns in order. Rendered under the
 * contract's own name whatever the deployment's schema is called, so every deployment — and the
 * test that checks the committed file — renders the same text.
 */
export async function renderAnalyticsDocs(db: Queryable, analyticsSchema: string): Promise<string> {
  const schemaComment = (await db.query<{ comment: string | null }>(
    `SELECT obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname = $1`,
    [analyticsSchema],
  )).rows[0]?.comment;
  const { rows } = await db.query<CatalogRow>(
    `SELECT c.relname AS view, obj_description(c.oid, 'pg_class') AS view_comment, a.attname AS column_name,
            format_type(a.atttypid, a.atttypmod) AS column_type, col_description(c.oid, a.attnum) AS column_comment
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE n.nspname = $1 AND c.relkind = 'v'
     ORDER BY c.relname, a.attnum`,
    [analyticsSchema],
  );
  if (!schemaComment) throw new UndocumentedAnalyticsColumn(`schema ${analyticsSchema} has no comment`);
  const lines = [
    `# The analytics contract: \`${ANALYTICS_VERSION}\``,
    '',
    '<!-- Generated from the catalog comments by `npm run analytics:docs`; a test fails when this file is stale. Edit src/analytics/views/*.sql instead. -->',
    '',
    escape(schemaComment),
    '',
    '**Access.** `thodare analytics grant <role> [--org <id>] [--password <pw>]` creates (or updates) a login role that can',
    'read these views and nothing else; `--org` limits it to one organization\'s rows, and so is every role that inherits it.',
    '`thodare analytics revoke <role>` takes the access away. The schema is `analytics_v1` for the default deployment',
    'schema `thodare`, and `<THODARE_SCHEMA>_analytics_v1` for any other (several deployments can share a cluster).',
    '',
    'The canonical queries for the questions analysts ask are in [analytics/](analytics/), each tested on a fixture with',
    'known answers; they name the schema `analytics_v1`.',
  ];
  let current = '';
  for (const row of rows) {
    if (row.view !== current) {
      current = row.view;
      if (!row.view_comment) throw new UndocumentedAnalyticsColumn(`view ${row.view} has no comment`);
      lines.push('', `## \`${ANALYTICS_VERSION}.${row.view}\``, '', escape(row.view_comment), '', '| column | type | meaning |', '|---|---|---|');
    }
    if (!row.column_comment) throw new UndocumentedAnalyticsColumn(`column ${row.view}.${row.column_name} has no comment`);
    lines.push(`| \`${row.column_name}\` | ${row.column_type} | ${escape(row.column_comment)} |`);
  }
  return `${lines.join('\n')}\n`;
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
