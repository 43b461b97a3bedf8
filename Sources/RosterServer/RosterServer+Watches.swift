import EtcdGateway
import HTTP
import HTTP2
import Posix
import Raft
import Registry
import RosterAPI
import RosterNode

/// Watches and streams: single watches, watch streams, long polls and streamed keepalives.
extension RosterServer {
    func startWatch(_ spec: WatchSpec, session: ClientSession, user: String? = nil) {
        let now = MonotonicClock.milliseconds()
        switch spec.mode {
        case .stream:
            let stream = watchHub.open(
                .single, session: session, progressIntervalMilliseconds: spec.progressIntervalMilliseconds, now: now)
            stream.user = user
            let watcher = watchHub.add(spec, tag: nil, to: stream, registry: registry)
            session.beginStream(.watch(stream), head: APIAdapter.streamHead(context: context))
            watchHub.catchUp(watcher, registry: registry, now: now)
        case .longPoll(_, let wait):
            let stream = watchHub.open(
                .longPoll, session: session, progressIntervalMilliseconds: spec.progressIntervalMilliseconds, now: now)
            stream.user = user
            let watcher = watchHub.add(spec, tag: nil, to: stream, registry: registry)
            session.beginLongPoll(stream)
            watchHub.catchUp(watcher, registry: registry, now: now)
            guard !stream.isClosed else { return }  // Answered at once from history.
            stream.longPollTimer = loop.schedule(after: .milliseconds(wait)) { [weak session, unowned self] in
                guard let session, case .watch(let current) = session.mode, current === stream else { return }
                session.completeLongPoll(events: [], revision: self.registry.revision)
            }
        }
        metrics.watchers = watchHub.count
    }

    /// `POST /v1/watch`: a stream with no watches yet; they come as control lines.
    func startWatchStream(_ options: WatchStreamOptions, session: ClientSession, user: String? = nil) {
        let stream = watchHub.open(
            .multiplexed, session: session, progressIntervalMilliseconds: options.progressIntervalMilliseconds,
            now: MonotonicClock.milliseconds())
        stream.user = user
        session.beginStream(.watch(stream), head: APIAdapter.streamHead(context: context))
    }

    /// One control line of a multiplexed stream: create or cancel a watch, or refuse the line.
    func watchControl(_ line: ArraySlice<UInt8>, stream: WatchStream) {
        let now = MonotonicClock.milliseconds()
        let registry = self.registry
        switch APIAdapter.watchControl(line, limits: registry.limits, progressIntervalMilliseconds: stream.progressIntervalMilliseconds) {
        case .failure(let refusal) where refusal.endsStream:
            stream.session.endWatch(code: refusal.error.code, message: refusal.error.message)
        case .failure(let refusal):
            stream.write(APIAdapter.canceledLine(watch: refusal.watchID, error: refusal.error), now: now)
        case .success(nil):
            break
        case .success(.create(let id, let spec)?):
            if stream.watcher(tagged: id) != nil {
                stream.write(APIAdapter.canceledLine(watch: id, error: .duplicateWatchID(id)), now: now)
            } else if stream.watchers.count >= WatchControl.maximumWatchesPerStream {
                stream.write(
                    APIAdapter.canceledLine(watch: id, error: .tooManyWatches(limit: WatchControl.maximumWatchesPerStream)),
                    now: now)
            } else if !WatchHub.isPermitted(spec, user: stream.user, registry: registry) {
                stream.write(APIAdapter.canceledLine(watch: id, error: APIError(auth: .permissionDenied)), now: now)
            } else {
                let watcher = watchHub.add(spec, tag: id, to: stream, registry: registry)
                stream.write(APIAdapter.createdLine(watch: id, revision: registry.revision), now: now)
                watchHub.catchUp(watcher, registry: registry, now: now)
            }
        case .success(.cancel(let id)?):
            if let watcher = stream.watcher(tagged: id) {
                watchHub.remove(watcher)
                stream.write(APIAdapter.canceledLine(watch: id, error: nil), now: now)
            } else {
                stream.write(APIAdapter.canceledLine(watch: id, error: .watchNotFound(id)), now: now)
            }
        }
        metrics.watchers = watchHub.count
    }

    func stopWatchStream(_ stream: WatchStream) {
        if let timer = stream.longPollTimer { loop.cancel(timer) }
        stream.longPollTimer = nil
        watchHub.close(stream)
        metrics.watchers = watchHub.count
    }

    func watchStreamDrained(_ stream: WatchStream) {
        watchHub.catchUp(stream: stream, registry: registry, now: MonotonicClock.milliseconds())
    }

    func streamKeepAlive(_ lease: LeaseID, session: ClientSession) {
        submit(.keepAlive(lease), session: session, kind: .streamedKeepAlive)
    }

    func encodeLongPoll(events: [RegistryEvent], revision: Revision, includePrevious: Bool) -> [UInt8] {
        APIAdapter.longPoll(events: events, revision: revision, includePrevious: includePrevious, context: context)
    }
}
