// The bank's sign-in page sent the browser back here (/sso/callback). Opened as a pop-up by a
// widget framed in the bank's site, hand the single-use code to that widget (same origin) and
// close; otherwise (a whole tab went to the bank and back) open the widget with the code in
// the URL fragment. The widget redeems it with the binding only it holds.
const main = document.getElementById("main");
const { target, code, error } = main.dataset;
const message = { type: "branchline.sso", code: code || null, error: error || null };
const fragment = code ? `#sso=${encodeURIComponent(code)}` : `#sso_error=${encodeURIComponent(error)}`;

function openWidget() { location.replace(target + fragment); }

if (window.opener && window.opener !== window) {
  // The widget answers; without an answer (an opener that is not our widget) carry on here.
  const fallback = setTimeout(openWidget, 1500);
  window.addEventListener("message", (event) => {
    if (event.origin !== location.origin || event.source !== window.opener) return;
    if (event.data && event.data.type === "branchline.sso.received") { clearTimeout(fallback); window.close(); }
  });
  window.opener.postMessage(message, location.origin);
} else {
  openWidget();
}
