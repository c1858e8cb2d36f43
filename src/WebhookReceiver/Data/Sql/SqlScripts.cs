namespace WebhookReceiver.Data.Sql;

/// <summary>SQL kept as files next to this class (embedded), so functions are reviewed as SQL, not C# strings.</summary>
internal static class SqlScripts
{
    public static string Read(string fileName)
    {
        using var stream = typeof(SqlScripts).Assembly.GetManifestResourceStream("Sql." + fileName)
                           ?? throw new InvalidOperationException($"embedded SQL script {fileName} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
