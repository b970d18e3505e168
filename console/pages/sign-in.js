// @ts-check
// Sign in with an API key: tried against GET /v1/me before it is kept (in this tab's sessionStorage only).
import { ApiError, call, session } from '../api.js';
import { h } from '../ui.js';

export const signInPage = {
  /**
   * @param {HTMLElement} main
   * @param {{ notice?: string, signedIn: (me: any) => void }} options
   */
  render(main, { notice, signedIn }) {
    const input = /** @type {HTMLInputElement} */ (h('input', { id: 'api-key', name: 'api-key', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' }));
    const message = h('p', { class: 'message', role: 'status', 'aria-live': 'polite', text: notice ?? '' });
    const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit' }, 'Sign in'));
    const form = h(
      'form', { class: 'sign-in', 'aria-labelledby': 'sign-in-title' },
      h('h1', { id: 'sign-in-title', text: 'Sign in' }),
      h('label', { for: 'api-key', text: 'API key' }),
      input,
      button,
      message,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      button.disabled = true;
      message.textContent = 'Checking the key…';
      try {
        const me = await call('GET', '/v1/me', { key });
        session.signIn(key);
        signedIn(me);
      } catch (error) {
        message.textContent = error instanceof ApiError && error.status === 401 ? 'This key is not valid.' : `Could not sign in: ${error instanceof Error ? error.message : error}`;
        button.disabled = false;
        input.focus();
      }
    });
    main.replaceChildren(form);
    input.focus();
  },
};
