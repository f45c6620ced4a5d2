// Passkeys on the provider's interaction pages (login: data-passkey="login"; the offer after a
// login: data-passkey="register"). Served as a file because the CSP allows no inline script. It
// uses only what the browser offers (PublicKeyCredential's JSON helpers), and does nothing where
// those are missing: the section stays hidden and the page works as it is.
(() => {
  const section = document.querySelector('[data-passkey]');
  const supported =
    window.isSecureContext &&
    typeof window.PublicKeyCredential === 'function' &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function' &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function' &&
    typeof PublicKeyCredential.prototype.toJSON === 'function';
  if (!section || !supported) return;

  const button = document.getElementById('passkey-button');
  const error = document.getElementById('passkey-error');
  const form = document.getElementById('passkey-form');
  const registering = section.dataset.passkey === 'register';
  section.hidden = false;
  const unsupported = document.getElementById('passkey-unsupported');
  if (unsupported) unsupported.hidden = true;

  const say = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };

  // The options come from the server with a one-time challenge; the form's CSRF token goes along.
  const fetchOptions = async () => {
    const response = await fetch(section.dataset.options, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ csrf: form.elements.namedItem('csrf').value }),
      credentials: 'same-origin',
    });
    if (!response.ok) throw new Error(`options answered ${response.status}`);
    return response.json();
  };

  const ceremony = async (options) => {
    if (registering) {
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
      return navigator.credentials.create({ publicKey });
    }
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
    return navigator.credentials.get({ publicKey });
  };

  button.addEventListener('click', async () => {
    say('');
    button.disabled = true;
    try {
      const credential = await ceremony(await fetchOptions());
      if (!credential) throw new Error('no credential');
      form.elements.namedItem('credential').value = JSON.stringify(credential.toJSON());
      if (registering) form.elements.namedItem('name').value = document.getElementById('passkey-name').value;
      // A normal form post: the server answers with the next page or a redirect, as for a password.
      form.submit();
    } catch (failure) {
      // NotAllowedError: the resident closed the dialog, or the device could not verify them.
      say(failure && failure.name === 'NotAllowedError' ? section.dataset.cancelled : section.dataset.failed);
      button.disabled = false;
    }
  });
})();
