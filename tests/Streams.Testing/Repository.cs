namespace Streams.Tests;

/// <summary>The repository the tests run from: the README, docs and examples they check against.</summary>
public static class Repository
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Streams.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new DirectoryNotFoundException("Streams.sln not found above the test directory");
        }
    }
}
