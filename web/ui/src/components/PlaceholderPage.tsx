import { PageHeader } from './PageHeader';

export function PlaceholderPage({ title, what }: { title: string; what: string }) {
  return (
    <>
      <PageHeader title={title} />
      <section className="card">
        <p>{what}</p>
        <p className="muted">This page is not built yet in this version of Flowpilot.</p>
      </section>
    </>
  );
}
