import { Link } from '../router/Link';
import { paths } from '../router/paths';
import { PageHeader } from '../components/PageHeader';

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <section className="card">
        <p>
          There is no page here. Go to <Link to={paths.workflows()}>Workflows</Link>.
        </p>
      </section>
    </>
  );
}
