//! The page's style sheet (the filter's and the diagram's come from their
//! own modules).

/// Inlined in the page's `<style>`.
pub const PAGE: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #0f172a; margin: 24px auto; max-width: 1400px; padding: 0 16px; }
header h1 { margin: 0; font-size: 22px; }
p.target { margin: 4px 0; font-size: 16px; }
p.meta { margin: 0; color: #64748b; }
p.result { display: inline-block; margin: 10px 0 0; padding: 4px 10px; border-radius: 4px; font-weight: 600; }
p.result.ok { background: #dcfce7; color: #166534; }
p.result.bad { background: #fee2e2; color: #991b1b; }
div.banner { margin: 0 0 16px; padding: 10px 14px; border-radius: 6px; background: #991b1b; color: #fff; }
div.banner a { color: #fff; text-decoration: underline; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #e2e8f0; padding-bottom: 4px; }
table { border-collapse: collapse; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e2e8f0; text-align: left; vertical-align: top; }
thead th { background: #f8fafc; font-weight: 600; }
table.summary td { text-align: right; min-width: 56px; }
table.summary tr.total th, table.summary tr.total td { font-weight: 700; border-top: 2px solid #94a3b8; }
td.zero { color: #cbd5e1; }
td.passed { color: #166534; } td.non-strict { color: #92400e; } td.failed { color: #b91c1c; font-weight: 700; }
td.info { color: #1d4ed8; } td.na { color: #64748b; }
table.cases { width: 100%; }
td.name { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; white-space: nowrap; }
td.reason { word-break: break-word; max-width: 560px; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 11.5px; font-weight: 700; white-space: nowrap; }
.badge.passed { background: #dcfce7; color: #166534; }
.badge.failed { background: #fee2e2; color: #991b1b; }
.badge.non-strict { background: #fef3c7; color: #92400e; }
.badge.info { background: #dbeafe; color: #1e40af; }
.badge.na { background: #f1f5f9; color: #475569; }
a { color: #1d4ed8; text-decoration: none; } a:hover { text-decoration: underline; }
section.trace { margin: 18px 0 26px; }
section.trace h3 { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 14px; margin: 0 0 4px; }
section.trace p { margin: 2px 0; }
p.clause { color: #475569; font-size: 13px; }
div.diagram { overflow-x: auto; border: 1px solid #e2e8f0; border-radius: 6px; margin-top: 8px; }
";
