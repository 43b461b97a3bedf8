// Goal: shared helpers for the HTTP tests. Method: parse whole byte strings through the public parser API, so
// every test exercises the same incremental path a connection uses.
@testable import HTTP

/// Parses `text` fed in pieces of `split` bytes (0 = all at once) and returns every request or the first error.
func parseAll(_ text: String, split: Int = 0, limits: HTTPParserLimits = HTTPParserLimits())
    -> Result<[HTTPRequest], HTTPParseError>
{
    parseAll(Array(text.utf8), split: split, limits: limits)
}

func parseAll(_ bytes: [UInt8], split: Int = 0, limits: HTTPParserLimits = HTTPParserLimits())
    -> Result<[HTTPRequest], HTTPParseError>
{
    var parser = HTTPRequestParser(limits: limits)
    var requests: [HTTPRequest] = []
    let step = split == 0 ? max(bytes.count, 1) : split
    var offset = 0
    do {
        repeat {
            let end = min(offset + step, bytes.count)
            parser.append(bytes[offset..<end])
            offset = end
            while let request = try parser.nextRequest() { requests.append(request) }
        } while offset < bytes.count
    } catch {
        return .failure(error)
    }
    return .success(requests)
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }

    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}
