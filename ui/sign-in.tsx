// Signing in: the user pastes their API key once; it is kept for this tab in sessionStorage, sent as a bearer key.
import { useState } from 'preact/hooks';
import { storeKey } from './session.js';

export function SignIn({ problem, onSignedIn }: { readonly problem?: string; readonly onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) return;
    storeKey(trimmed);
    setKey('');
    onSignedIn();
  };
  return (
    <section class="sign-in">
      <h1>Sign in</h1>
      <p class="muted">
        This API needs a key. Paste your tenant's API key: it is kept in this browser tab only, until you sign out or
        close the tab.
      </p>
      {problem && (
        <p class="notice notice-error" role="alert">
          {problem}
        </p>
      )}
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          minLength={16}
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
        />
        <button type="submit">Sign in</button>
      </form>
    </section>
  );
}
