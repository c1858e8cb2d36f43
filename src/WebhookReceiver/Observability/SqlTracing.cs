using System.Diagnostics;
using Npgsql;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Observability;

/// <summary>
/// Npgsql's spans of the service's own data source (tracing on only: Npgsql asks nothing while no tracer listens).
/// A command is traced only inside a trace: the dispatcher's polls and the gauges' reads, with no request or job
/// around them, would otherwise be sampled as traces of their own. The hot path's batch is not traced by Npgsql: the
/// "ingest batch" span already times exactly it, and Npgsql's span would carry the statements' text (~7 KB per round,
/// joined for every sampled batch): measured in bench/run.sh's tracing phase, half the CPU tracing cost per webhook.
/// </summary>
internal static class SqlTracing
{
    public static void Configure(NpgsqlTracingOptionsBuilder tracing) => tracing
        .ConfigureCommandFilter(static _ => Activity.Current is not null)
        .ConfigureBatchFilter(static batch => Activity.Current is not null && !IsIngest(batch));

    private static bool IsIngest(NpgsqlBatch batch) =>
        batch.BatchCommands.Count > 1 && ReferenceEquals(batch.BatchCommands[1].CommandText, IngestStore.Sql);
}
