using WebhookReceiver.Calls;

namespace WebhookReceiver.Integrations.Crm;

/// <summary>POST {Crm:BaseUrl}/calls — the call's current record; the CRM upserts it by <c>call_id</c>.</summary>
internal sealed record CrmSyncPayload(string CallId, long? EventId, DateTimeOffset SyncedAt, CallSummary Call);
