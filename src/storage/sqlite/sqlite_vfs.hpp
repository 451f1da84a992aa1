#pragma once
// The SQLite VFS every facefuse connection to its files uses: "unix-excl", SQLite's unix VFS
// that takes an exclusive lock on the database file when it is first read and keeps the WAL
// index in heap memory instead of a shared-memory file.
//
// Why: `serve` is the only process that may use its data directory (it hands every leased
// task back at start-up, which would steal the work of a second serve on the same files), and
// its connections all live in one process. With the default VFS each transaction of each
// connection takes and drops file locks on the -shm file with fcntl -- a third of the task
// database's system calls under load, measured. Here those locks are in memory, and a second
// process gets "database is locked" instead of silently sharing the files.
//
// Every connection to one file must use the same VFS, tests included: a connection with
// another VFS in the same process would not see the in-memory WAL index.
namespace facefuse::storage {

inline constexpr const char* kSqliteVfs = "unix-excl";

}  // namespace facefuse::storage
