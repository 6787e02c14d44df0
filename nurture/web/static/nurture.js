/* nurture.js: a first-party visitor id and page views for nurture (docs/website-events.md).
 * Sets the nurture_vid cookie on the site's own domain (1 year, SameSite=Lax) and posts a
 * page view to the API that served this file. No third-party cookie, no fingerprinting.
 * Arriving from a click in one of our emails, the URL carries nurture_id (a signed token
 * naming the lead, valid for an hour): it is posted once with the visitor id as an identify
 * call and removed from the address bar first, so it is never bookmarked, shared or stored
 * in a page view's URL. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.nurture) return;
  var endpoint = new URL("/v1/collect", script.src).href;
  var COOKIE = "nurture_vid";

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); })
      .join("");
  }

  function visitorId() {
    var found = document.cookie.match(/(?:^|; )nurture_vid=([A-Za-z0-9_-]{8,64})(?:;|$)/);
    var id = found ? found[1] : randomId();
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = COOKIE + "=" + id + "; Max-Age=31536000; Path=/; SameSite=Lax" + secure;
    return id;
  }

  var vid = visitorId();

  function post(payload) {
    // text/plain is a "simple" request: no CORS preflight before each call.
    return fetch(endpoint, {
      method: "POST",
      body: JSON.stringify(payload),
      headers: { "Content-Type": "text/plain" },
      keepalive: true,
      credentials: "omit",
      mode: "cors"
    }).catch(function () {});
  }

  function takeIdentifyToken() {
    var token = new URLSearchParams(location.search).get("nurture_id");
    if (!token) return null;
    // Drop only nurture_id=...; the rest of the query and the fragment stay as they were.
    var search = location.search.replace(
      /([?&])nurture_id=[^&#]*(&|$)/,
      function (match, lead, tail) { return tail ? lead : ""; }
    );
    if (search === "?") search = "";
    try {
      history.replaceState(history.state, "", location.pathname + search + location.hash);
    } catch (e) { /* sandboxed page: the token expires within the hour anyway */ }
    return token;
  }

  function identify(token) {
    post({ type: "identify", visitor_id: vid, token: token });
  }

  var identifyToken = takeIdentifyToken();

  function pageView() {
    post({
      type: "page_view",
      visitor_id: vid,
      event_id: randomId(),
      url: location.href.slice(0, 2048),
      title: document.title.slice(0, 300)
    });
  }

  window.nurture = { visitorId: vid, pageView: pageView };
  if (identifyToken) identify(identifyToken);
  if (script.getAttribute("data-auto") !== "off") pageView();
})();
