/// The part the request and response parsers share: a byte buffer and the cycle head → body →
/// next head, until a message closes the connection or the stream proves malformed.
///
/// What a head means (its framing, whether it keeps the connection, whether it is skipped like a
/// 1xx response) is the caller's `interpret` function; everything else is here once.
struct HTTPMessageReader<StartLine: HTTPStartLine, Head: Sendable>: Sendable {
    /// What a complete head means for the stream, or nil to skip it and read the next head.
    typealias Interpretation = (head: Head, framing: HTTPBodyFraming, keepsAlive: Bool)

    private enum State: Sendable {
        case head(HTTPHeadReader<StartLine>)
        case body(Head, keepsAlive: Bool, HTTPBodyReader)
        case closed
        case failed(HTTPError)
    }

    let limits: HTTPLimits
    private var buffer = HTTPInputBuffer()
    private var state = State.head(HTTPHeadReader())

    init(limits: HTTPLimits) { self.limits = limits }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if isReading { buffer.append(bytes) }
    }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        if isReading { buffer.append(contentsOf: bytes) }
    }

    /// The next complete message, or nil until more bytes arrive. The first error is thrown again
    /// on every later call.
    mutating func next(
        interpret: (StartLine, HTTPHeaders) throws(HTTPError) -> Interpretation?
    ) throws(HTTPError) -> (Head, body: [UInt8])? {
        try failingForGood { (this: inout Self) throws(HTTPError) in try this.read(interpret: interpret) }
    }

    /// Ends the stream: completes a body delimited by close, returns nil after a clean end between
    /// messages, and throws for a message cut short.
    mutating func finish() throws(HTTPError) -> (Head, body: [UInt8])? {
        try failingForGood { (this: inout Self) throws(HTTPError) in
            switch this.take() {
            case .failed(let error):
                throw error
            case .closed:
                return nil
            case .head(let reader):
                guard this.buffer.isEmpty && !reader.hasStarted else {
                    throw HTTPError(.truncatedMessage, "The connection closed in the middle of a message head.")
                }
                return nil
            case .body(let head, _, var reader):
                try reader.finishAtEndOfStream()
                return (head, reader.body)
            }
        }
    }

    var headAwaitingBody: Head? {
        if case .body(let head, _, _) = state { return head }
        return nil
    }

    var isIdle: Bool {
        switch state {
        case .head(let reader): return buffer.isEmpty && !reader.hasStarted
        case .body: return false
        case .closed, .failed: return true
        }
    }

    var isReading: Bool {
        switch state {
        case .head, .body: return true
        case .closed, .failed: return false
        }
    }

    private mutating func failingForGood<T>(_ work: (inout Self) throws(HTTPError) -> T) throws(HTTPError) -> T {
        do {
            return try work(&self)
        } catch {
            state = .failed(error)
            buffer.removeAll()
            throw error
        }
    }

    private mutating func read(
        interpret: (StartLine, HTTPHeaders) throws(HTTPError) -> Interpretation?
    ) throws(HTTPError) -> (Head, body: [UInt8])? {
        while true {
            // Each reader is moved out of `state` while it works, so its arrays are uniquely
            // referenced and grow in place instead of being copied on every append.
            switch take() {
            case .failed(let error):
                throw error
            case .closed:
                return nil
            case .head(var reader):
                guard let (line, headers) = try reader.read(from: &buffer, limits: limits) else {
                    state = .head(reader)
                    return nil
                }
                guard let meaning = try interpret(line, headers) else {
                    state = .head(HTTPHeadReader())
                    continue
                }
                state = .body(meaning.head, keepsAlive: meaning.keepsAlive, HTTPBodyReader(framing: meaning.framing))
            case .body(let head, let keepsAlive, var reader):
                guard try reader.read(from: &buffer, limits: limits) else {
                    state = .body(head, keepsAlive: keepsAlive, reader)
                    return nil
                }
                if keepsAlive {
                    state = .head(HTTPHeadReader())
                } else {
                    buffer.removeAll()
                }
                return (head, reader.body)
            }
        }
    }

    /// The current state, leaving `.closed` in its place until the caller puts one back.
    private mutating func take() -> State {
        let current = state
        state = .closed
        return current
    }
}
