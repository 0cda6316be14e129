namespace Streams.Dispatcher.Providers;

public sealed class HttpGatewayKind : ProviderKind
{
    public override string TypeName => HttpGatewayProvider.TypeName;

    public override IReadOnlyList<string> Keys => ["url", "body", "message_id_field", "token_env", "token_file"];

    public override string? Problem(string name, ProviderOptions o, IReadOnlyDictionary<string, ProviderOptions> all)
    {
        if (o.Url is null || !Uri.TryCreate(o.Url, UriKind.Absolute, out var gateway) || gateway.Scheme is not ("http" or "https"))
            return $"providers.{name}.url: an http provider needs an absolute http(s) URL";
        if (o.Body is { } body && HttpGatewayProvider.Parse(body, out var error) is null)
            return $"providers.{name}.body: {OneLine(error)}";
        return null;
    }

    public override ISmsProvider Create(string name, ProviderOptions o, ProviderContext context) => new HttpGatewayProvider(name, new HttpGatewaySettings
    {
        Url = o.Url!,
        Body = o.Body ?? HttpGatewaySettings.DefaultBody,
        Token = HasSecret(o) ? o.Secret(name) : null,
        MessageIdField = string.IsNullOrEmpty(o.MessageIdField) ? null : o.MessageIdField,
    }, context.Http, HttpResilience.Build(Resilience(o), context.Time));

    private static string OneLine(string? text) =>
        string.Join(" ", (text ?? "invalid template").Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
