/**
 * The storefront code Settings shows, complete as pasted: it defines `havenTrack(email, type,
 * details)`, which sends one event with the publishable key. Storefront events need the
 * shopper's email, so the call goes wherever the email is known (a newsletter form, a signed-in
 * page). The browser test runs this exact text on a page of another origin.
 */
export function trackingSnippet(endpoint: string, publishableKey: string): string {
  return `<script>
  // Haven Hub storefront tracking.
  window.havenTrack = function (email, type, details) {
    return fetch(${JSON.stringify(endpoint)}, {
      method: 'POST',
      keepalive: true,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        key: ${JSON.stringify(publishableKey)},
        events: [Object.assign({ type: type || 'page_view', channel: 'direct', email: email }, details)],
      }),
    });
  };
</script>
<!-- Then, wherever the shopper's email is known, for example when a newsletter form is sent:
     havenTrack(form.querySelector('input[type=email]').value, 'lead_capture'); -->`;
}
