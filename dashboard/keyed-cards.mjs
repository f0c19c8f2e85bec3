// Refreshing a list of cards without losing the person's place: a card whose data did not change is
// kept as it is (focus, scroll and open folds included); one that changed is rebuilt with the same
// folds open.

/**
 * @template T
 * @param {HTMLElement} list the container; its children are the cards, in the items' order
 * @param {T[]} items
 * @param {{ key: (item: T) => string, render: (item: T) => HTMLElement }} options
 *   render is called only for new or changed items; the card's data-card-key holds key(item)
 */
export function reconcileCards(list, items, { key, render }) {
  /** @type {Map<string, HTMLElement>} */
  const existing = new Map();
  for (const child of list.children) {
    const element = /** @type {HTMLElement} */ (child);
    if (element.dataset.cardKey) existing.set(element.dataset.cardKey, element);
  }
  const cards = items.map((item) => {
    const cardKey = key(item);
    const signature = JSON.stringify(item);
    const old = existing.get(cardKey);
    if (old && old.dataset.signature === signature) return old;
    const card = render(item);
    card.dataset.cardKey = cardKey;
    card.dataset.signature = signature;
    if (old) {
      for (const fold of old.querySelectorAll('details[open][data-key]')) {
        card
          .querySelector(`details[data-key="${CSS.escape(fold.getAttribute('data-key') ?? '')}"]`)
          ?.setAttribute('open', '');
      }
    }
    return card;
  });
  // Only what moved or changed is touched: a detached element loses focus even when put back.
  cards.forEach((card, index) => {
    const current = list.children[index];
    if (current !== card) list.insertBefore(card, current ?? null);
  });
  while (list.children.length > cards.length) list.lastElementChild?.remove();
}

/**
 * Scrolls to a card and moves focus to its heading, so a link from elsewhere lands on it.
 * @param {HTMLElement} list @param {string} attribute @param {string} value
 */
export function focusCard(list, attribute, value) {
  const card = list.querySelector(`[${attribute}="${CSS.escape(value)}"]`);
  if (!card) return;
  for (const other of list.querySelectorAll('.targeted')) other.classList.remove('targeted');
  card.classList.add('targeted');
  const heading = /** @type {HTMLElement | null} */ (card.querySelector('h3'));
  heading?.focus();
  card.scrollIntoView({ block: 'start' });
}
