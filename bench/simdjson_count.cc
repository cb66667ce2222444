// Baseline for bench/filter.sh: counts the documents of a JSON Lines file with simdjson's
// iterate_many (mmap'd input, no field access). `evt filter` is compared against it.
#include <fcntl.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: simdjson_count FILE.jsonl\n");
    return 2;
  }
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return 2;
  size_t n = static_cast<size_t>(st.st_size);
  // Map with room for simdjson's padding past the end of the file.
  size_t cap = n + simdjson::SIMDJSON_PADDING;
  void* p = mmap(nullptr, cap, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return 2;
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document_stream docs;
  if (parser.iterate_many(static_cast<const char*>(p), n, 1 << 20).get(docs)) return 2;
  size_t count = 0;
  for (auto doc : docs) {
    (void)doc;
    ++count;
  }
  std::printf("%zu\n", count);
  return 0;
}
