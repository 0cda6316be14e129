namespace Streams.Core;

/// <summary>The configuration (or a secret it names) is wrong; the message is one line naming the key.</summary>
public sealed class ConfigException(string message) : Exception(message);
