/* nurture.js: a first-party visitor id and page views for nurture (docs/website-events.md).
 * Sets the nurture_vid cookie on the site's own domain (1 year, SameSite=Lax) and posts a
 * page view to the API that served this file. No third-party cookie, no fingerprinting. */
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

  function pageView() {
    var body = JSON.stringify({
      type: "page_view",
      visitor_id: vid,
      event_id: randomId(),
      url: location.href.slice(0, 2048),
      title: document.title.slice(0, 300)
    });
    // text/plain is a "simple" request: no CORS preflight before each page view.
    fetch(endpoint, {
      method: "POST",
      body: body,
      headers: { "Content-Type": "text/plain" },
      keepalive: true,
      credentials: "omit",
      mode: "cors"
    }).catch(function () {});
  }

  window.nurture = { visitorId: vid, pageView: pageView };
  if (script.getAttribute("data-auto") !== "off") pageView();
})();
