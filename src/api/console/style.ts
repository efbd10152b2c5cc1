// The console's one stylesheet, served as /admin/static/console.css (a file
// of its own, so the Content-Security-Policy can forbid inline styles). Kept
// in a module rather than a .css file so that `npm run build` ships it in
// dist/ with the code that serves it.
export const CONSOLE_CSS = `
:root{--fg:#1f2328;--muted:#59636e;--bg:#f6f8fa;--card:#fff;--line:#d1d9e0;--accent:#0b57d0;--ok:#1a7f37;--bad:#b42318;--warn:#9a6700;
  font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
*{box-sizing:border-box}
body{margin:0}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible,iframe:focus-visible{outline:3px solid #fb8c00;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.25rem .5rem;z-index:2}
header.top{background:#24292f;color:#fff;padding:.5rem 1.5rem;display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;align-items:center}
header.top .brand{font-weight:600;margin-right:1rem}
header.top nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:0;padding:0}
header.top a{color:#fff;text-decoration:none}header.top a:hover,header.top a[aria-current]{text-decoration:underline}
header.top .who{margin-left:auto;color:#d0d7de;font-size:.9em}
header.top form{display:inline}header.top button{background:none;border:1px solid #8c959f;color:#fff;border-radius:4px;padding:.1rem .6rem;font:inherit;cursor:pointer}
main{max-width:78rem;margin:0 auto;padding:1.25rem 1.5rem 3rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}h3{font-size:1rem;margin:1rem 0 .25rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem;margin:0 0 1rem}
.card>h2:first-child{margin-top:0}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:8px}
caption{text-align:left;color:var(--muted);padding:.25rem 0;caption-side:top}
th,td{text-align:left;vertical-align:top;padding:.45rem .6rem;border-bottom:1px solid var(--line)}
th{background:#eef1f4;font-weight:600;font-size:.9em}
tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right}
.muted{color:var(--muted)}.small{font-size:.88em}
.badge{display:inline-block;border-radius:999px;padding:0 .55rem;font-size:.85em;border:1px solid currentColor;white-space:nowrap}
.badge.ok,.st-idle,.st-syncing,.out-conversation,.att-OK{color:var(--ok)}
.badge.bad,.st-auth_error,.st-connect_error,.out-failed,.att-ERROR{color:var(--bad)}
.st-connecting,.out-duplicate,.out-skipped,.att-WARNING,.att-UNAVAILABLE{color:var(--warn)}
.st-disabled{color:var(--muted)}
.notice{border-left:4px solid var(--accent);background:#eef4ff;padding:.6rem .9rem;margin:0 0 1rem;border-radius:4px}
.notice.ok{border-color:var(--ok);background:#edf7ef}.notice.bad{border-color:var(--bad);background:#fdf0ef}
.error-text{color:var(--bad)}
form.stack{display:grid;grid-template-columns:minmax(10rem,14rem) minmax(0,32rem);gap:.6rem 1rem;align-items:start}
form.stack .full{grid-column:1/-1}
form.stack label{padding-top:.35rem;font-weight:500}
input[type=text],input[type=number],input[type=password],input[type=email],input[type=date],select,textarea{width:100%;padding:.4rem .5rem;font:inherit;border:1px solid #8c959f;border-radius:4px;background:#fff}
textarea{min-height:4rem}
.hint{display:block;color:var(--muted);font-size:.85em;margin-top:.15rem}
.field-error{display:block;color:var(--bad);font-size:.88em;margin-top:.15rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0}
.actions form{display:inline}
button,.button{font:inherit;padding:.4rem .9rem;border-radius:6px;border:1px solid #8c959f;background:#f6f8fa;color:var(--fg);cursor:pointer;text-decoration:none;display:inline-block}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.danger{background:#fff;border-color:var(--bad);color:var(--bad)}
button.small{padding:.1rem .5rem;font-size:.88em}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
ol.stages{list-style:none;padding:0;margin:.5rem 0}
ol.stages li{padding:.15rem 0}
ol.stages .mark{display:inline-block;width:1.5rem;font-weight:700}
.mark.ok{color:var(--ok)}
.filters a[aria-current]{font-weight:700;text-decoration:none;color:var(--fg)}
details{margin-top:.75rem}summary{cursor:pointer;font-weight:600}
.filters{display:flex;flex-wrap:wrap;gap:.25rem .75rem;margin:0 0 .75rem;padding:0;list-style:none}
.pager{display:flex;gap:1rem;align-items:center;margin:.75rem 0}
.conversation{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:0 0 1.25rem;padding:1rem 1.25rem}
.conversation header{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:baseline;margin-bottom:.5rem}
.extracted{white-space:pre-wrap;background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem;margin:.25rem 0 .75rem;font:inherit}
iframe.mail{width:100%;height:22rem;border:1px solid var(--line);border-radius:6px;background:#fff;resize:vertical;overflow:auto}
.wrap{overflow-wrap:anywhere}
pre.code{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:.88em}
`;
