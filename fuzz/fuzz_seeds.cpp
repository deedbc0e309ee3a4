// Writes the fuzz targets' seed corpora: brook_fuzz_seeds FRAMES_DIR OUT_DIR.
//   OUT_DIR/protocol_decoder_fuzz/  every captured client frame (tests/common/protocol/frames, as a
//                                   request frame), and every generated example message of every
//                                   API and version, requests and responses (as bodies);
//   OUT_DIR/record_batch_validator_fuzz/  the record batches that the captured Produce frames carry.
// File names are the content's FNV-1a hash, so a rerun rewrites the same files.
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/protocol/header.hpp"
#include "common/protocol/messages/catalog.hpp"
#include "common/protocol/messages/examples.hpp"
#include "common/protocol/messages/produce.hpp"

namespace fs = std::filesystem;
namespace protocol = brook::common::protocol;

namespace {

void write_seed(const fs::path& dir, const std::vector<uint8_t>& content) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : content) h = (h ^ b) * 1099511628211ull;
  char name[17];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(h));
  std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(content.data()),
                                                    static_cast<std::streamsize>(content.size()));
}

// A frame file: `#` comment lines, then the frame (size prefix, header, body) as hex text.
std::vector<uint8_t> read_hex_frame(const fs::path& file) {
  std::ifstream in(file);
  std::string line, hex;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#')
      for (char c : line)
        if (std::isxdigit(static_cast<unsigned char>(c))) hex.push_back(c);
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

void put_int16(std::vector<uint8_t>& out, int16_t v) {
  out.push_back(static_cast<uint8_t>(static_cast<uint16_t>(v) >> 8));
  out.push_back(static_cast<uint8_t>(v & 0xff));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s FRAMES_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  const fs::path frames(argv[1]), out(argv[2]);
  const fs::path decoder_dir = out / "protocol_decoder_fuzz", batch_dir = out / "record_batch_validator_fuzz";
  fs::create_directories(decoder_dir);
  fs::create_directories(batch_dir);
  size_t frame_seeds = 0, example_seeds = 0, batch_seeds = 0;

  for (const auto& entry : fs::directory_iterator(frames)) {
    if (entry.path().extension() != ".hex") continue;
    std::vector<uint8_t> frame = read_hex_frame(entry.path());
    if (frame.size() < 4) continue;
    std::vector<uint8_t> seed{0};
    seed.insert(seed.end(), frame.begin() + 4, frame.end());
    write_seed(decoder_dir, seed);
    ++frame_seeds;
    try {
      protocol::reader r(std::span<const uint8_t>(frame).subspan(4));
      auto h = protocol::decode_request_header(r);
      if (h.api_key != protocol::produce::api_key) continue;
      protocol::produce::request produce;
      produce.decode(r, h.api_version);
      for (const auto& topic : produce.topic_data)
        for (const auto& partition : topic.partition_data)
          if (partition.records) {
            auto bytes = partition.records->memory();
            write_seed(batch_dir, std::vector<uint8_t>(bytes.begin(), bytes.end()));
            ++batch_seeds;
          }
    } catch (const protocol::decode_error& e) {
      std::fprintf(stderr, "%s: %s\n", entry.path().c_str(), e.what());
      return 1;
    }
  }

  for (const auto& example : protocol::all_examples()) {
    const protocol::api_schema* api = nullptr;
    for (const auto& s : protocol::all_api_schemas())
      if (s.name == example.api) api = &s;
    if (!api) continue;
    std::vector<uint8_t> seed{static_cast<uint8_t>(example.request ? 1 : 2)};
    put_int16(seed, api->key);
    put_int16(seed, example.version);
    auto body = example.encode();
    seed.insert(seed.end(), body.begin(), body.end());
    write_seed(decoder_dir, seed);
    ++example_seeds;
  }
  std::printf("seeds: %zu captured frames, %zu example messages, %zu record batches\n", frame_seeds, example_seeds,
              batch_seeds);
  return 0;
}
