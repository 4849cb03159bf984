namespace Mtt.Core.Routing;

/// <summary>One user: the secret request path and the backend that path's tunnels are relayed to.</summary>
public sealed record Route(string Path, BackendAddress Backend);
