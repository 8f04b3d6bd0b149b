// The lab's entry point: mounts the Svelte app, and shows a readable error instead of a blank page if that fails.
import { mount } from 'svelte';
import App from './app/App.svelte';
import { LabState } from './app/lab.svelte.ts';
import './app/styles.css';

const target = document.getElementById('app');

function showFatal(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const host = target ?? document.body;
  host.replaceChildren();
  const box = document.createElement('div');
  box.setAttribute('role', 'alert');
  box.dataset.testid = 'error';
  box.style.cssText =
    'max-width:640px;margin:48px auto;padding:16px 20px;border:1px solid #f1c3cb;background:#fff5f6;border-radius:10px;font:14px/1.5 system-ui,sans-serif;color:#1d2433';
  const title = document.createElement('strong');
  title.textContent = 'Hoplab could not start';
  const text = document.createElement('p');
  text.textContent = `${message}. Reload the page; if it still fails, open the lab with default settings or try a current Chrome, Firefox or Safari.`;
  const link = document.createElement('a');
  link.href = location.pathname;
  link.textContent = 'Open the lab with default settings';
  box.append(title, text, link);
  host.append(box);
}

try {
  if (!target) throw new Error('the page has no #app element');
  mount(App, { target, props: { lab: new LabState(location) } });
} catch (error) {
  console.error(error);
  showFatal(error);
}
