import { useEffect, useState } from 'react';
import { ApiError } from '../api/client';
import { connectionsApi, type Connection, type ConnectionInput } from '../api/connections';
import { usePermission } from '../auth/session';
import { ConnectionCard } from '../components/ConnectionCard';
import { ConnectionForm } from '../components/ConnectionForm';
import { Dialog } from '../components/Dialog';
import { EmptyState } from '../components/EmptyState';
import { LoadingState } from '../components/LoadingState';
import { PageHeader } from '../components/PageHeader';
import { ProblemAlert } from '../components/ProblemAlert';
import { toApiError, useAsync } from '../lib/useAsync';
import '../styles/connections.css';

type Open = { kind: 'add' } | { kind: 'edit'; connection: Connection } | { kind: 'remove'; connection: Connection } | null;

function RemoveConfirm({ connection, onRemoved, onCancel }: { connection: Connection; onRemoved: () => void; onCancel: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await connectionsApi.remove(connection.name);
      onRemoved();
    } catch (err) {
      setError(toApiError(err));
      setBusy(false);
    }
  };
  return (
    <div className="connection-remove-confirm">
      <p>
        Remove the connection <strong className="mono">{connection.name}</strong>? Its stored secrets are deleted, and steps that
        use <code>connection: {connection.name}</code> fail until a connection of that name is added again.
      </p>
      {error && <ProblemAlert error={error} action="Could not remove the connection" />}
      <div className="button-row">
        <button type="button" className="button button-danger" onClick={remove} disabled={busy}>
          {busy ? 'Removing…' : 'Remove connection'}
        </button>
        <button type="button" className="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </div>
  );
}

function Connections({ canWrite }: { canWrite: boolean }) {
  const canReadTypes = usePermission('workflows:read');
  const list = useAsync((signal) => connectionsApi.list(signal), []);
  const types = useAsync(
    (signal) => (canReadTypes ? connectionsApi.types(signal) : Promise.resolve({ items: [] })),
    [canReadTypes],
  );
  const [open, setOpen] = useState<Open>(null);
  const [announcement, setAnnouncement] = useState('');
  const [removedCount, setRemovedCount] = useState(0);

  // The button that opened the remove dialog is gone: keep keyboard focus on the page. This runs
  // after the dialog's own effect has closed it (child effects run first).
  useEffect(() => {
    if (removedCount > 0) document.getElementById('main')?.focus();
  }, [removedCount]);

  const typeList = types.data?.items ?? [];
  const typeOf = (name: string) => typeList.find((t) => t.name === name);
  const items = list.data?.items ?? [];
  const formsReady = typeList.length > 0;
  const close = () => setOpen(null);

  const save = async (input: ConnectionInput) => {
    if (open?.kind === 'edit') {
      const saved = await connectionsApi.update(open.connection.name, input);
      list.setData((prev) => prev && { items: prev.items.map((c) => (c.name === saved.name ? saved : c)) });
      setAnnouncement(`Saved ${saved.name}.`);
    } else {
      const created = await connectionsApi.create(input);
      list.setData((prev) => ({ items: [...(prev?.items ?? []), created].sort((a, b) => a.name.localeCompare(b.name)) }));
      setAnnouncement(`Added ${created.name}.`);
    }
    close();
  };

  const dialogTitle =
    open?.kind === 'add' ? 'Add connection' : open?.kind === 'edit' ? `Edit ${open.connection.name}` : open ? `Remove ${open.connection.name}?` : '';

  return (
    <>
      <PageHeader
        title="Connections"
        subtitle="The credentials and settings your workflows' steps use to reach ad platforms, CRMs and chat tools."
        actions={
          <>
            <button type="button" className="button" onClick={list.reload} disabled={list.loading}>
              Refresh
            </button>
            {canWrite && (
              <button
                type="button"
                className="button button-primary"
                onClick={() => setOpen({ kind: 'add' })}
                disabled={!formsReady}
                title={formsReady ? undefined : 'The connection types are not loaded'}
              >
                Add connection
              </button>
            )}
          </>
        }
      />
      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>
      {!canWrite && (
        <p className="alert alert-info">Your role can see and test connections but not change them (that needs connections:write).</p>
      )}
      {types.error && <ProblemAlert error={types.error} action="Could not load the connection types" onRetry={types.reload} />}
      {canWrite && !canReadTypes && (
        <p className="alert alert-warn">Adding and editing need the connection types, which your role cannot read (workflows:read).</p>
      )}
      {list.error && <ProblemAlert error={list.error} action="Could not load connections" onRetry={list.reload} />}
      {list.loading && !list.data && <LoadingState label="Loading connections…" />}
      {list.data && items.length === 0 && (
        <EmptyState title="No connections yet.">
          {canWrite
            ? 'Add one for each ad account, CRM or chat tool your workflows use.'
            : 'Someone with connections:write can add them here or with flowpilot connections add.'}
        </EmptyState>
      )}
      {items.length > 0 && (
        <ul className="connection-list" aria-label="Connections">
          {items.map((connection) => (
            <li key={connection.name}>
              <ConnectionCard
                // A changed connection starts without the old test result.
                key={connection.updated_at}
                connection={connection}
                type={typeOf(connection.type)}
                canWrite={canWrite}
                canTest
                onTest={() => connectionsApi.test(connection.name)}
                onEdit={formsReady && typeOf(connection.type) ? () => setOpen({ kind: 'edit', connection }) : undefined}
                onRemove={() => setOpen({ kind: 'remove', connection })}
              />
            </li>
          ))}
        </ul>
      )}

      <Dialog title={dialogTitle} open={open !== null} onClose={close}>
        {open?.kind === 'remove' ? (
          <RemoveConfirm
            connection={open.connection}
            onCancel={close}
            onRemoved={() => {
              const name = open.connection.name;
              list.setData((prev) => prev && { items: prev.items.filter((c) => c.name !== name) });
              setAnnouncement(`Removed ${name}.`);
              close();
              setRemovedCount((n) => n + 1);
            }}
          />
        ) : open ? (
          <ConnectionForm
            key={open.kind === 'edit' ? `edit-${open.connection.name}` : 'add'}
            types={typeList}
            existing={open.kind === 'edit' ? open.connection : undefined}
            onSubmit={save}
            onCancel={close}
          />
        ) : null}
      </Dialog>
    </>
  );
}

export function ConnectionsPage() {
  const canRead = usePermission('connections:read');
  const canWrite = usePermission('connections:write');
  if (!canRead) {
    return (
      <>
        <PageHeader title="Connections" />
        <p className="alert alert-info">Your role cannot see connections: that needs the permission connections:read.</p>
      </>
    );
  }
  return <Connections canWrite={canWrite} />;
}
