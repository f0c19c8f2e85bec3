// The modal that asks for an API key. It resolves with the key, or rejects when cancelled.

/** @param {string} message @returns {Promise<string>} */
export function askForKey(message) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('key-dialog'));
  const form = /** @type {HTMLFormElement} */ (document.getElementById('key-form'));
  const input = /** @type {HTMLInputElement} */ (document.getElementById('key-input'));
  const cancel = /** @type {HTMLButtonElement} */ (document.getElementById('key-cancel'));
  const text = /** @type {HTMLElement} */ (document.getElementById('key-message'));
  text.textContent = message;
  input.value = '';
  return new Promise((resolve, reject) => {
    const done = () => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
    };
    /** @param {SubmitEvent} event */
    const onSubmit = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (key === '') {
        text.textContent = 'Enter a key, or cancel.';
        input.focus();
        return;
      }
      done();
      dialog.close();
      resolve(key);
    };
    /** @param {Event} event */
    const onCancel = (event) => {
      event.preventDefault();
      done();
      dialog.close();
      reject(new Error('no API key given'));
    };
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    if (!dialog.open) dialog.showModal();
    input.focus();
  });
}
