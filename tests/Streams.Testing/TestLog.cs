using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Streams.Tests;

/// <summary>
/// Logs of the pipeline under test: none, unless STREAMS_TEST_LOG names a directory, where each factory writes one
/// file per test process. For chasing a rare failure (a loop of runs with logs kept), not for assertions. One factory
/// for the process, never disposed: Streamiz keeps the last configured factory in a static and uses it in every
/// later StreamConfig.
/// </summary>
public static class TestLog
{
    private static readonly Lazy<ILoggerFactory> Shared = new(() =>
        Environment.GetEnvironmentVariable("STREAMS_TEST_LOG") is { Length: > 0 } dir
            ? LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new FileLoggerProvider(Path.Combine(dir, $"tests-{Environment.ProcessId}.log"))))
            : NullLoggerFactory.Instance);

    public static ILoggerFactory Factory => Shared.Value;

    private sealed class FileLoggerProvider(string path) : ILoggerProvider
    {
        private readonly StreamWriter _writer = CreateWriter(path);

        private static StreamWriter CreateWriter(string path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return new StreamWriter(path, append: false) { AutoFlush = true };
        }

        public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

        internal void Write(string line)
        {
            lock (_writer) _writer.WriteLine(line);
        }

        public void Dispose()
        {
            lock (_writer) _writer.Dispose();
        }

        private sealed class FileLogger(FileLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                try
                {
                    provider.Write($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel,-11} [{Environment.CurrentManagedThreadId}] {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }
    }
}
