// Classic (non-module) script. Load it synchronously as the first child of
// <body> (e.g. in nhsuk/template.jinja's `bodyStart` block):
//   <script src="/static/build/js/supported.js"></script>
// It does what the inline snippet of nhsuk-frontend's page template does,
// which a Content-Security-Policy without inline scripts blocks.
// nhsuk-frontend's initAll() only runs when <body> has the class
// "nhsuk-frontend-supported" (browsers that support <script type="module">).
// Idempotent: harmless if the inline snippet did run too.
document.body.classList.add('js-enabled');
if ('noModule' in HTMLScriptElement.prototype) {
  document.body.classList.add('nhsuk-frontend-supported');
}
