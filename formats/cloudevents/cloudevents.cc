#include "formats/cloudevents/cloudevents.h"

#include <fmt/format.h>

#include <string_view>

#include "formats/envelope/envelope.h"
#include "lib/base/timeutil.h"

namespace evt::cloudevents {

namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.substr(0, p.size()) == p; }

bool IsJsonContentType(std::string_view ct) {
  // application/json, text/json, application/*+json, with optional parameters.
  size_t semi = ct.find(';');
  if (semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  return ct == "application/json" || ct == "text/json" ||
         (ct.size() > 5 && ct.substr(ct.size() - 5) == "+json");
}

// The JSON text of a string-valued attribute.
void AppendAttr(std::string_view name, std::string_view value, std::string* out, bool* first) {
  if (!*first) out->push_back(',');
  *first = false;
  envelope::AppendJsonString(name, out);
  out->push_back(':');
  envelope::AppendJsonString(value, out);
}

}  // namespace

void AppendRecord(const RecordBatch& b, const Record& r, std::string* out) {
  const Header* hs = b.HeadersOf(r);
  std::string_view content_type;
  bool have_ct = false;
  bool have_ce = false;
  for (uint32_t i = 0; i < r.header_count; ++i) {
    std::string_view k = hs[i].key;
    if ((k == "content-type" || k == "content_type" || k == "Content-Type") && !hs[i].value.null()) {
      content_type = hs[i].value.view();
      have_ct = true;
    }
    if (StartsWith(k, "ce_")) have_ce = true;
  }
  std::string_view value = r.value.view();
  // Structured mode: the value already is a CloudEvent.
  if (!r.value.null() && !have_ce &&
      ((have_ct && StartsWith(content_type, "application/cloudevents")) ||
       (value.size() > 2 && value.front() == '{' && value.find("\"specversion\"") != std::string_view::npos)) &&
      envelope::IsEmbeddableJson(value)) {
    out->append(value);
    out->push_back('\n');
    return;
  }
  out->push_back('{');
  bool first = true;
  bool have[5] = {false, false, false, false, false};  // specversion id source type time
  static constexpr std::string_view kRequired[5] = {"specversion", "id", "source", "type", "time"};
  // Attributes from ce_ headers (last duplicate wins is not worth the cost: the binding
  // forbids duplicates; we keep the first).
  for (uint32_t i = 0; i < r.header_count; ++i) {
    std::string_view k = hs[i].key;
    if (!StartsWith(k, "ce_") || k.size() == 3 || hs[i].value.null()) continue;
    std::string_view attr = k.substr(3);
    bool dup = false;
    for (uint32_t j = 0; j < i; ++j)
      if (hs[j].key == k && !hs[j].value.null()) dup = true;
    if (dup || attr == "data" || attr == "data_base64" || attr == "datacontenttype") continue;
    std::string_view v = hs[i].value.view();
    if (!envelope::IsValidUtf8(v)) continue;  // attributes are strings; skip undecodable ones
    for (int a = 0; a < 5; ++a)
      if (attr == kRequired[a]) have[a] = true;
    AppendAttr(attr, v, out, &first);
  }
  if (!have[0]) AppendAttr("specversion", "1.0", out, &first);
  if (!have[1]) AppendAttr("id", fmt::format("{}-{}-{}", b.topic, r.partition >= 0 ? r.partition : b.partition, r.offset), out, &first);
  if (!have[2]) AppendAttr("source", fmt::format("kafka://{}/{}", b.topic, r.partition >= 0 ? r.partition : b.partition), out, &first);
  if (!have[3]) AppendAttr("type", "kafka.record", out, &first);
  if (!have[4] && r.timestamp >= 0) AppendAttr("time", FormatRfc3339Ms(r.timestamp), out, &first);
  if (have_ct && envelope::IsValidUtf8(content_type)) AppendAttr("datacontenttype", content_type, out, &first);
  if (!r.key.null() && envelope::IsValidUtf8(r.key.view())) AppendAttr("partitionkey", r.key.view(), out, &first);
  if (!r.value.null()) {
    out->push_back(',');
    bool json_ok = !have_ct || IsJsonContentType(content_type);
    if (json_ok && envelope::IsEmbeddableJson(value)) {
      out->append("\"data\":");
      out->append(value);
    } else if (envelope::IsValidUtf8(value)) {
      out->append("\"data\":");
      envelope::AppendJsonString(value, out);
    } else {
      out->append("\"data_base64\":\"");
      envelope::AppendBase64(value, out);
      out->push_back('"');
    }
  }
  out->append("}\n");
}

}  // namespace evt::cloudevents
