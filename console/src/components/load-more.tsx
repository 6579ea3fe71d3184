/** The button under a paged list (`usePages`): shown while there is a next page. */
export function LoadMore({ pages, what }: { pages: { next: string | null; loadMore(): void }; what: string }) {
  if (!pages.next) return null;
  return (
    <button type="button" className="secondary" onClick={pages.loadMore}>
      Load more {what}
    </button>
  );
}
