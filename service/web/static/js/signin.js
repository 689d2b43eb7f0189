// A sign-in link carries the token in the URL fragment (never sent to the server):
// fill the field, forget the fragment, submit.
const match = window.location.hash.match(/token=([^&]+)/);
if (match) {
  document.getElementById("token").value = decodeURIComponent(match[1]);
  history.replaceState(null, "", window.location.pathname);
  document.getElementById("signin-form").requestSubmit();
}
