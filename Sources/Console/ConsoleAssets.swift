/// The web console's files and the pure lookup the node serves them through.
///
/// The console is plain HTML, CSS and JavaScript modules with no framework; it talks only to the node that
/// served it (and, for member status, to the other members' client addresses), so it works offline.
public enum ConsoleAssets {
    /// Every file, `index.html` first.
    public static let all: [ConsoleAsset] = [
        ConsoleAsset(name: "index.html", text: indexHTML),
        ConsoleAsset(name: "style.css", text: styleCSS),
        ConsoleAsset(name: "app.js", text: appJS),
        ConsoleAsset(name: "api.js", text: apiJS),
        ConsoleAsset(name: "model.js", text: modelJS),
        ConsoleAsset(name: "watch.js", text: watchJS),
        ConsoleAsset(name: "instance-list.js", text: instanceListJS),
        ConsoleAsset(name: "views.js", text: viewsJS),
        ConsoleAsset(name: "dialog.js", text: dialogJS),
        ConsoleAsset(name: "actions.js", text: actionsJS),
        ConsoleAsset(name: "cluster.js", text: clusterJS),
        ConsoleAsset(name: "leases.js", text: leasesJS),
    ]

    private static let byName: [String: ConsoleAsset] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The asset at a path under `/ui/`: `""` (the directory itself) is `index.html`.
    /// - Parameter name: The rest of the path after `/ui/`, still undecoded; names are plain ASCII.
    /// - Returns: The asset, or nil when there is none by that name.
    public static func asset(named name: String) -> ConsoleAsset? {
        byName[name.isEmpty ? "index.html" : name]
    }
}
