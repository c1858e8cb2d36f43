// Hangfire keeps some process-wide statics (serializer settings, log provider); hosts of different test
// classes must not start and stop concurrently around them.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
