/// Checked records on their way from a reading thread to SQLite. Their values lie end to end in
/// one buffer, each followed by a NUL byte, so a batch of a thousand records takes a few
/// allocations rather than one per value, and SQLite binds each value where it lies instead of
/// copying it first.
struct RowBatch: Sendable {
    /// Values per record: the file's binding columns, in the binding's order.
    let width: Int
    /// Each record's physical line in its file.
    private(set) var lines: [Int] = []
    /// Whether each record deletes its record (a delta's `tobedeleted`).
    private(set) var deletions: [Bool] = []
    private var bytes: [UInt8] = []
    /// Where each value's NUL byte ends in `bytes`: value k starts where value k - 1 ends.
    private var ends: [Int] = []

    init(width: Int, capacity: Int) {
        self.width = width
        lines.reserveCapacity(capacity)
        deletions.reserveCapacity(capacity)
        ends.reserveCapacity(capacity * width)
        bytes.reserveCapacity(capacity * width * 8)
    }

    var count: Int { lines.count }
    var isEmpty: Bool { lines.isEmpty }

    /// Adds one record; `values` holds `width` values.
    mutating func append(_ values: [String], line: Int, isDeletion: Bool) {
        for value in values {
            bytes.append(contentsOf: value.utf8)
            bytes.append(0)
            ends.append(bytes.count)
        }
        lines.append(line)
        deletions.append(isDeletion)
    }

    /// Calls `body` with the batch's values in place; they are valid only inside `body`.
    func withValues<T, E: Error>(_ body: (Values) throws(E) -> T) throws(E) -> T {
        let result: Result<T, E> = bytes.withUnsafeBufferPointer { buffer in
            ends.withUnsafeBufferPointer { ends in
                do throws(E) { return .success(try body(Values(base: buffer.baseAddress, ends: ends, width: width))) }
                catch { return .failure(error) }
            }
        }
        return try result.get()
    }

    /// A batch's values, seen in place.
    struct Values {
        // Never nil once a record is in the batch: every value adds at least its NUL byte.
        fileprivate let base: UnsafePointer<UInt8>?
        fileprivate let ends: UnsafeBufferPointer<Int>
        fileprivate let width: Int

        /// The bytes of record `row`'s value in binding column `column`, without its NUL.
        subscript(row: Int, column: Int) -> UnsafeBufferPointer<UInt8> {
            let index = row * width + column
            let start = index == 0 ? 0 : ends[index - 1]
            return UnsafeBufferPointer(start: base! + start, count: ends[index] - start - 1)
        }
    }
}
