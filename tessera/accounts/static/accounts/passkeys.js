// After django-otp-webauthn registers a passkey, show the page again (or the recovery codes
// made for it), so the new passkey is listed.
document.addEventListener("otp_webauthn.register_complete", () => {
  const section = document.getElementById("passkeys");
  window.location.assign(section?.dataset.after || window.location.pathname);
});
