using Mtt.Core.Routing;

namespace Mtt.Core.Control.Commands;

/// <summary>
/// A checked change to the user table (opt 1, 2 or 3), not yet applied: what an <see cref="IUserTable"/> writes.
/// </summary>
/// <param name="Opt"><see cref="CommandProcessor.OptAdd"/>, <see cref="CommandProcessor.OptDelete"/> or <see cref="CommandProcessor.OptReset"/>.</param>
/// <param name="EntryCount">Entries in the command's <c>args_bunch</c>, for the log.</param>
/// <param name="Added">opt 1: the users to add or overwrite; empty otherwise.</param>
/// <param name="Removed">opt 2: the paths to delete; empty otherwise.</param>
public sealed record UserChange(int Opt, int EntryCount, IReadOnlyList<Route> Added, IReadOnlyList<string> Removed);
