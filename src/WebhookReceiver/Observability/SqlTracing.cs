using System.Diagnostics;
using Npgsql;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Observability;

/// <summary>
/// Npgsql's spans of the service's own data source (tracing on only: Npgsql asks nothing while no tracer listens).
/// A command is traced only inside a trace: the dispatcher's polls and the gauges' reads, with no request or job
/// around them, would otherwise be sampled as traces of their own. The hot path's batch names its statements instead
/// of carrying their text (Data/Sql/ingest_batch.sql is ~7 KB, once per round in every sampled batch).
/// </summary>
internal static class SqlTracing
{
    private const string QueryText = "db.query.text";

    public static void Configure(NpgsqlTracingOptionsBuilder tracing) => tracing
        .ConfigureCommandFilter(static _ => Activity.Current is not null)
        .ConfigureBatchFilter(static _ => Activity.Current is not null)
        .ConfigureBatchEnrichmentCallback(static (activity, batch) =>
        {
            if (batch.BatchCommands.Count > 1 && ReferenceEquals(batch.BatchCommands[1].CommandText, IngestStore.Sql))
            {
                activity.SetTag(QueryText, $"-- Data/Sql/ingest_lock.sql; Data/Sql/ingest_batch.sql x {batch.BatchCommands.Count - 1}");
            }
        });
}
