using Streams.Cli;

return await StreamsCli.RunAsync(args, Console.Out, Console.Error);
