#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import StewardControl

/// What the service answers to one request: replies ready now, or a stream that is asked for its
/// next reply only when the connection has room, so a slow reader never makes the daemon buffer
/// a whole audit log.
enum ControlOutcome: Sendable {
    case replies([ControlReply])
    /// Called on the service queue; returns the next reply and whether it was the last.
    case stream(@Sendable () -> (reply: ControlReply, isLast: Bool))
    /// Long work that runs elsewhere (an import) and pushes its replies when it has them.
    /// Called on the connection's queue; it must only start the work and return.
    case pushed(@Sendable (ReplySink) -> Void)
}

/// Where long work sends its replies. Progress may be dropped when the client reads slowly; the
/// last reply never is. Replies to a client that has gone are discarded.
final class ReplySink: Sendable {
    private let connection: ControlConnection

    init(_ connection: ControlConnection) { self.connection = connection }

    func send(_ reply: ControlReply, isLast: Bool, droppable: Bool = false) {
        connection.deliver(reply, isLast: isLast, droppable: droppable)
    }
}

/// Handles the requests of every connection. Implemented by ``ControlService``.
protocol ControlHandling: Sendable {
    /// The serial queue on which `handle` runs.
    var serviceQueue: DispatchQueue { get }
    func handle(line: [UInt8], from peer: PeerCredentials) -> ControlOutcome
}

/// One client on the control socket: reads JSON lines, answers them in order (pipelined
/// requests wait for the one before), enforces the 1 MiB line limit, and writes replies without
/// ever blocking its loop.
final class ControlConnection: @unchecked Sendable {
    // Sound because every mutable field is touched only on `queue`, a serial queue; the other
    // fields are immutable.
    private let descriptor: Int32
    private let queue: DispatchQueue
    private let peer: PeerCredentials
    private let handler: any ControlHandling
    private let onClose: @Sendable (ControlConnection) -> Void
    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var input: [UInt8] = []
    private var scannedUpTo = 0
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var isBusy = false
    private var isClosing = false
    private var isClosed = false
    private var isReadSuspended = false
    private var isInputEnded = false
    private var activeSources = 0
    private var stream: (@Sendable () -> (reply: ControlReply, isLast: Bool))?

    /// Output held back before a stream is asked for more.
    private static let streamHighWater = 256 * 1024

    init(descriptor: Int32, peer: PeerCredentials, loop: DispatchQueue, handler: any ControlHandling,
         onClose: @escaping @Sendable (ControlConnection) -> Void) {
        self.descriptor = descriptor
        self.peer = peer
        self.handler = handler
        self.onClose = onClose
        queue = DispatchQueue(label: "steward.control.connection", target: loop)
    }

    func start() {
        queue.async { [self] in
            let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
            source.setEventHandler { [self] in readAvailable() }
            source.setCancelHandler { [self] in sourceCancelled() }
            activeSources += 1
            readSource = source
            source.resume()
        }
    }

    /// Sends one last error and closes once it is written: for a line that cannot be answered in
    /// order any more (too long), or a daemon that is stopping.
    func finish(with reply: ControlReply) {
        queue.async { [self] in
            enqueue(reply)
            isClosing = true
            flush()
        }
    }

    // MARK: Reading

    /// Reads one chunk per event (the source fires again while more is waiting), so a client that
    /// floods the socket costs at most one line's worth of memory.
    private func readAvailable() {
        guard !isClosed else { return }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if count > 0 {
            input += chunk[..<count]
            processLines()
        } else if count == 0 {
            endOfInput()
        } else if errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK {
            close()
        }
    }

    /// The client shut its side: answer every whole line it sent, drop a partial one, then close.
    private func endOfInput() {
        isInputEnded = true
        if let readSource {
            self.readSource = nil
            readSource.cancel()
        }
        processLines()
    }

    private func processLines() {
        while !isBusy && !isClosing && !isClosed {
            guard let newline = input[scannedUpTo...].firstIndex(of: 0x0a) else {
                scannedUpTo = input.count
                if input.count > ControlCoding.maximumLineLength { return rejectLongLine() }
                if isInputEnded && outputOffset >= output.count { close() }
                return
            }
            let line = Array(input[..<newline])
            input.removeSubrange(...newline)
            scannedUpTo = 0
            if line.count + 1 > ControlCoding.maximumLineLength { return rejectLongLine() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0d || $0 == 0x09 }) { continue }
            dispatch(line)
        }
    }

    private func rejectLongLine() {
        readSource?.suspend()  // Nothing more is read from a connection that is being closed.
        isReadSuspended = true
        input = []
        finish(with: .failure(.requestTooLong,
            "a request line is longer than \(ControlCoding.maximumLineLength) bytes; the connection is closed"))
    }

    private func dispatch(_ line: [UInt8]) {
        isBusy = true
        let peer = self.peer
        handler.serviceQueue.async { [self, handler] in
            let outcome = handler.handle(line: line, from: peer)
            queue.async { [self] in
                switch outcome {
                case .replies(let replies):
                    replies.forEach(enqueue)
                    isBusy = false
                case .stream(let next):
                    stream = next
                case .pushed(let start):
                    start(ReplySink(self))
                }
                flush()
                continueStream()
                processLines()
            }
        }
    }

    /// Asks the stream for its next reply when there is room for it.
    private func continueStream() {
        guard let next = stream, !isClosed, output.count - outputOffset < Self.streamHighWater else { return }
        stream = nil
        handler.serviceQueue.async { [self] in
            let (reply, isLast) = next()
            queue.async { [self] in
                enqueue(reply)
                if isLast { isBusy = false } else { stream = next }
                flush()
                continueStream()
                processLines()
            }
        }
    }

    /// A reply pushed by long work; see ``ReplySink``.
    fileprivate func deliver(_ reply: ControlReply, isLast: Bool, droppable: Bool) {
        queue.async { [self] in
            guard !isClosed else { return }
            if droppable && !isLast && output.count - outputOffset >= Self.streamHighWater { return }
            enqueue(reply)
            if isLast { isBusy = false }
            flush()
            processLines()
        }
    }

    // MARK: Writing

    private func enqueue(_ reply: ControlReply) {
        let bytes = (try? ControlCoding.encodeLine(reply))
            ?? Array(#"{"error":"steward.InternalError","parameters":{"message":"a reply could not be encoded"}}"#.utf8) + [0x0a]
        output += bytes
    }

    private func flush() {
        while outputOffset < output.count && !isClosed {
            let written = output.withUnsafeBytes { raw in
                send(descriptor, raw.baseAddress! + outputOffset, raw.count - outputOffset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if written > 0 { outputOffset += written; continue }
            if written < 0 && errno == EINTR { continue }
            if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return waitUntilWritable() }
            return close()
        }
        output.removeAll(keepingCapacity: output.count < 1 << 20)
        outputOffset = 0
        if let source = writeSource {
            writeSource = nil
            source.cancel()
        }
        if isClosing { close() }
    }

    private func waitUntilWritable() {
        guard writeSource == nil else { return }
        let source = DispatchSource.makeWriteSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler { [self] in
            flush()
            continueStream()
            processLines()
        }
        source.setCancelHandler { [self] in sourceCancelled() }
        activeSources += 1
        writeSource = source
        source.resume()
    }

    // MARK: Closing

    func close() {
        guard !isClosed else { return }
        isClosed = true
        stream = nil
        writeSource?.cancel()
        writeSource = nil
        if let readSource {
            readSource.cancel()
            if isReadSuspended { readSource.resume() }  // A suspended source must be resumed to finish cancelling.
        }
        readSource = nil
        if activeSources == 0 { Glibc.close(descriptor) }
        onClose(self)
    }

    /// The descriptor is closed only once the connection is closed and every source on it is
    /// cancelled, so it is never reused while Dispatch still watches it.
    private func sourceCancelled() {
        activeSources -= 1
        if activeSources == 0 && isClosed { Glibc.close(descriptor) }
    }
}
