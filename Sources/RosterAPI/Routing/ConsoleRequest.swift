/// A request for the web console under `/ui`, after routing.
public enum ConsoleRequest: Equatable, Sendable {
    /// `GET /ui`: redirect to `/ui/`, so the page's relative asset paths resolve under `/ui/`.
    case redirectToDirectory
    /// `GET /ui/` or `/ui/{file}`: the named asset (routing checked it exists), or 304 when
    /// `ifNoneMatch` names its current ETag.
    case asset(name: String, ifNoneMatch: String?)
}
