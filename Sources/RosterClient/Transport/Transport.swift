import Foundation

/// Runs `BlockingHTTP` on dedicated threads and bridges the results back to async callers.
///
/// Each exchange gets its own short-lived thread, so a slow or silent node never occupies a thread of the
/// cooperative pool; cancelling the calling task sets a flag the thread checks between 50 ms poll slices.
enum Transport {
    static func exchange(
        _ endpoint: Endpoint, method: String, path: String, body: [UInt8]?, deadline: ContinuousClock.Instant,
        bodyDeadline: ContinuousClock.Instant? = nil, bodyIdleLimit: Duration? = nil, headers: [String] = []
    ) async throws(TransportFailure) -> HTTPResponse {
        let flag = CancelFlag()
        let result: Result<HTTPResponse, TransportFailure> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let thread = Thread {
                    do throws(TransportFailure) {
                        let response = try BlockingHTTP.exchange(
                            endpoint, method: method, path: path, body: body, deadline: deadline,
                            bodyDeadline: bodyDeadline, bodyIdleLimit: bodyIdleLimit, cancel: flag, headers: headers)
                        continuation.resume(returning: .success(response))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
                thread.name = "roster-client-io"
                thread.start()
            }
        } onCancel: {
            flag.cancel()
        }
        return try result.get()
    }
}
