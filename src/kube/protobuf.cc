#include "kube/protobuf.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>

#include "common/json.h"

namespace byok::kube {
namespace {

namespace pb = google::protobuf;
using nlohmann::json;

// The messages byok decodes, with the field numbers of Kubernetes' generated.proto files
// (k8s.io/apimachinery pkg/runtime and pkg/apis/meta/v1, k8s.io/api core/v1). Field names are the
// JSON names. Only the kinds kubectl sends as protobuf to what byok serves; a new kind adds its
// messages and a kSchemaKinds entry.
// Strings are declared `bytes`, and maps as repeated StringEntry (the same wire format): for
// strings libprotobuf would log every invalid UTF-8 value a client sends to stderr;
// DecodeProtobufObject checks UTF-8 itself and answers 400.
constexpr std::string_view kSchema = R"schema(
syntax = "proto2";
package byok.k8s;

// A map<string, string> entry.
message StringEntry {
  optional bytes key = 1;
  optional bytes value = 2;
}

message TypeMeta {
  optional bytes apiVersion = 1;
  optional bytes kind = 2;
}

// runtime.Unknown: the envelope after the "k8s\0" prefix.
message Unknown {
  optional TypeMeta typeMeta = 1;
  optional bytes raw = 2;
  optional bytes contentEncoding = 3;
  optional bytes contentType = 4;
}

message Time {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}

message FieldsV1 {
  optional bytes Raw = 1;
}

message ManagedFieldsEntry {
  optional bytes manager = 1;
  optional bytes operation = 2;
  optional bytes apiVersion = 3;
  optional Time time = 4;
  optional bytes fieldsType = 6;
  optional FieldsV1 fieldsV1 = 7;
  optional bytes subresource = 8;
}

message OwnerReference {
  optional bytes kind = 1;
  optional bytes name = 3;
  optional bytes uid = 4;
  optional bytes apiVersion = 5;
  optional bool controller = 6;
  optional bool blockOwnerDeletion = 7;
}

message ObjectMeta {
  optional bytes name = 1;
  optional bytes generateName = 2;
  optional bytes namespace = 3;
  optional bytes selfLink = 4;
  optional bytes uid = 5;
  optional bytes resourceVersion = 6;
  optional int64 generation = 7;
  optional Time creationTimestamp = 8;
  optional Time deletionTimestamp = 9;
  optional int64 deletionGracePeriodSeconds = 10;
  repeated StringEntry labels = 11;
  repeated StringEntry annotations = 12;
  repeated OwnerReference ownerReferences = 13;
  repeated bytes finalizers = 14;
  repeated ManagedFieldsEntry managedFields = 17;
}

message NamespaceSpec {
  repeated bytes finalizers = 1;
}

message NamespaceCondition {
  optional bytes type = 1;
  optional bytes status = 2;
  optional Time lastTransitionTime = 4;
  optional bytes reason = 5;
  optional bytes message = 6;
}

message NamespaceStatus {
  optional bytes phase = 1;
  repeated NamespaceCondition conditions = 2;
}

message Namespace {
  optional ObjectMeta metadata = 1;
  optional NamespaceSpec spec = 2;
  optional NamespaceStatus status = 3;
}

// authorization.k8s.io/v1 (kubectl auth can-i)
message ResourceAttributes {
  optional bytes namespace = 1;
  optional bytes verb = 2;
  optional bytes group = 3;
  optional bytes version = 4;
  optional bytes resource = 5;
  optional bytes subresource = 6;
  optional bytes name = 7;
}

message NonResourceAttributes {
  optional bytes path = 1;
  optional bytes verb = 2;
}

message SelfSubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1;
  optional NonResourceAttributes nonResourceAttributes = 2;
}

message SubjectAccessReviewStatus {
  optional bool allowed = 1;
  optional bytes reason = 2;
  optional bytes evaluationError = 3;
  optional bool denied = 4;
}

message SelfSubjectAccessReview {
  optional ObjectMeta metadata = 1;
  optional SelfSubjectAccessReviewSpec spec = 2;
  optional SubjectAccessReviewStatus status = 3;
}

// authentication.k8s.io/v1 (kubectl auth whoami)
message UserInfo {
  optional bytes username = 1;
  optional bytes uid = 2;
  repeated bytes groups = 3;
}

message SelfSubjectReviewStatus {
  optional UserInfo userInfo = 1;
}

message SelfSubjectReview {
  optional ObjectMeta metadata = 1;
  optional SelfSubjectReviewStatus status = 2;
}
)schema";

// apiVersion, kind → message.
struct SchemaKind {
  std::string_view api_version;
  std::string_view kind;
  std::string_view message;
};
constexpr SchemaKind kSchemaKinds[] = {
    {"v1", "Namespace", "byok.k8s.Namespace"},
    {"authorization.k8s.io/v1", "SelfSubjectAccessReview", "byok.k8s.SelfSubjectAccessReview"},
    {"authentication.k8s.io/v1", "SelfSubjectReview", "byok.k8s.SelfSubjectReview"},
};

// Fields that are pointers in Go: present means set, even to the zero value.
const std::set<std::string, std::less<>>& PointerFields() {
  static const std::set<std::string, std::less<>> kFields = {
      "byok.k8s.OwnerReference.controller",
      "byok.k8s.OwnerReference.blockOwnerDeletion",
      "byok.k8s.ObjectMeta.deletionGracePeriodSeconds",
  };
  return kFields;
}

constexpr std::string_view kMagic{"k8s\0", 4};

class SchemaErrors : public pb::io::ErrorCollector {
 public:
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    std::fprintf(stderr, "byok: kube protobuf schema:%d:%d: %s\n", line + 1, column + 1,
                 message.c_str());
  }
};

// The pool and message prototypes, built once. The schema is part of the program: failing to
// build it is a bug, found by any test that decodes.
class Schema {
 public:
  Schema() {
    pb::io::ArrayInputStream input(kSchema.data(), static_cast<int>(kSchema.size()));
    SchemaErrors errors;
    pb::io::Tokenizer tokenizer(&input, &errors);
    pb::compiler::Parser parser;
    parser.RecordErrorsTo(&errors);
    pb::FileDescriptorProto file;
    file.set_name("byok/kube/k8s.proto");
    if (!parser.Parse(&tokenizer, &file) || pool_.BuildFile(file) == nullptr) {
      std::fprintf(stderr, "byok: the built-in Kubernetes protobuf schema does not build\n");
      std::abort();
    }
    factory_ = std::make_unique<pb::DynamicMessageFactory>(&pool_);
  }

  // A new empty message of the named type.
  std::unique_ptr<pb::Message> New(std::string_view full_name) const {
    const pb::Descriptor* d = pool_.FindMessageTypeByName(std::string(full_name));
    if (d == nullptr) {
      std::fprintf(stderr, "byok: no message %.*s in the Kubernetes protobuf schema\n",
                   static_cast<int>(full_name.size()), full_name.data());
      std::abort();
    }
    return std::unique_ptr<pb::Message>(factory_->GetPrototype(d)->New());
  }

 private:
  pb::DescriptorPool pool_;
  std::unique_ptr<pb::DynamicMessageFactory> factory_;  // after pool_: destroyed first
};

const Schema& GetSchema() {
  static const Schema kSchemaInstance;
  return kSchemaInstance;
}

// Time (seconds since the epoch, nanos dropped as the apiserver's JSON does) as RFC 3339.
Result<std::string> Rfc3339(int64_t seconds) {
  constexpr int64_t kMin = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kMax = 253402300799;  // 9999-12-31T23:59:59Z
  if (seconds < kMin || seconds > kMax) {
    return Status::InvalidArgument(fmt::format("time {} is out of range", seconds));
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) {
    return Status::InvalidArgument(fmt::format("time {} is out of range", seconds));
  }
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool IsZero(const json& v) {
  if (v.is_string()) return v.get_ref<const std::string&>().empty();
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>() == 0;
  if (v.is_number_unsigned()) return v.get<uint64_t>() == 0;
  if (v.is_number_float()) return v.get<double>() == 0;
  return v.is_null();
}

Result<json> MessageToJson(const pb::Message& m);

// One value of field f (index i for a repeated field, -1 otherwise). Zero times come back null.
Result<json> FieldValue(const pb::Message& m, const pb::FieldDescriptor* f, int i) {
  const pb::Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING:  // strings, declared bytes (UTF-8 checked at the end)
      return json(rep ? r->GetRepeatedString(m, f, i) : r->GetString(m, f));
    case pb::FieldDescriptor::CPPTYPE_INT64:
      return json(rep ? r->GetRepeatedInt64(m, f, i) : r->GetInt64(m, f));
    case pb::FieldDescriptor::CPPTYPE_INT32:
      return json(rep ? r->GetRepeatedInt32(m, f, i) : r->GetInt32(m, f));
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return json(rep ? r->GetRepeatedBool(m, f, i) : r->GetBool(m, f));
    case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
      const pb::Message& sub = rep ? r->GetRepeatedMessage(m, f, i) : r->GetMessage(m, f);
      const std::string& type = f->message_type()->full_name();
      const pb::Reflection* sr = sub.GetReflection();
      const pb::Descriptor* sd = sub.GetDescriptor();
      if (type == "byok.k8s.Time") {
        int64_t seconds = sr->GetInt64(sub, sd->FindFieldByName("seconds"));
        int32_t nanos = sr->GetInt32(sub, sd->FindFieldByName("nanos"));
        if (seconds == 0 && nanos == 0) return json(nullptr);
        BYOK_ASSIGN_OR_RETURN(std::string text, Rfc3339(seconds));
        return json(std::move(text));
      }
      if (type == "byok.k8s.FieldsV1") {
        // Through the same bounds (size, nesting depth, UTF-8) as every JSON body.
        const std::string& raw = sr->GetStringReference(sub, sd->FindFieldByName("Raw"), nullptr);
        auto parsed = ParseJsonBody(raw);
        if (!parsed.ok()) return Status::InvalidArgument("managedFields fieldsV1 is not JSON");
        return std::move(parsed).value();
      }
      return MessageToJson(sub);
    }
    default:
      return Status::InvalidArgument(fmt::format("unexpected field type of {}", f->name()));
  }
}

Result<json> MessageToJson(const pb::Message& m) {
  json out = json::object();
  const pb::Reflection* r = m.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);  // the fields present, by number
  for (const pb::FieldDescriptor* f : fields) {
    if (f->message_type() != nullptr && f->message_type()->full_name() == "byok.k8s.StringEntry") {
      json obj = json::object();  // a later duplicate key wins, as in Go
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        const pb::Message& entry = r->GetRepeatedMessage(m, f, i);
        const pb::Reflection* er = entry.GetReflection();
        const pb::Descriptor* ed = entry.GetDescriptor();
        obj[er->GetString(entry, ed->FindFieldByName("key"))] =
            er->GetString(entry, ed->FindFieldByName("value"));
      }
      if (!obj.empty()) out[f->name()] = std::move(obj);
    } else if (f->is_repeated()) {
      json arr = json::array();
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        BYOK_ASSIGN_OR_RETURN(json v, FieldValue(m, f, i));
        arr.push_back(std::move(v));
      }
      if (!arr.empty()) out[f->name()] = std::move(arr);
    } else {
      BYOK_ASSIGN_OR_RETURN(json v, FieldValue(m, f, -1));
      const bool pointer = PointerFields().count(f->full_name()) != 0;
      if (v.is_object() || v.is_array() || pointer || !IsZero(v)) out[f->name()] = std::move(v);
    }
  }
  return out;
}

}  // namespace

Result<json> DecodeProtobufObject(std::string_view body) {
  if (body.size() > JsonLimits{}.max_bytes) {
    return Status::InvalidArgument(
        fmt::format("the body is larger than {} bytes", JsonLimits{}.max_bytes));
  }
  if (body.substr(0, kMagic.size()) != kMagic) {
    return Status::InvalidArgument("the body does not start with the protobuf prefix \"k8s\\0\"");
  }
  body.remove_prefix(kMagic.size());
  const Schema& schema = GetSchema();
  std::unique_ptr<pb::Message> unknown = schema.New("byok.k8s.Unknown");
  if (!unknown->ParsePartialFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::InvalidArgument("malformed protobuf envelope");
  }
  const pb::Reflection* ur = unknown->GetReflection();
  const pb::Descriptor* ud = unknown->GetDescriptor();
  const pb::Message& type_meta = ur->GetMessage(*unknown, ud->FindFieldByName("typeMeta"));
  const pb::Reflection* tr = type_meta.GetReflection();
  const pb::Descriptor* td = type_meta.GetDescriptor();
  std::string api_version = tr->GetString(type_meta, td->FindFieldByName("apiVersion"));
  std::string kind = tr->GetString(type_meta, td->FindFieldByName("kind"));
  if (!ur->GetString(*unknown, ud->FindFieldByName("contentEncoding")).empty()) {
    return Status::InvalidArgument("protobuf bodies with a content encoding are not supported");
  }
  const SchemaKind* found = nullptr;
  for (const SchemaKind& k : kSchemaKinds) {
    if (k.api_version == api_version && k.kind == kind) found = &k;
  }
  if (found == nullptr) {
    // Quoted and escaped, and cut: the names are the client's bytes.
    constexpr size_t kMaxNamed = 256;
    std::string named = api_version + "/" + kind;
    if (named.size() > kMaxNamed) named = named.substr(0, kMaxNamed) + "...";
    return Status::NotFound(json(named).dump(-1, ' ', false, json::error_handler_t::replace));
  }
  std::unique_ptr<pb::Message> object = schema.New(found->message);
  const std::string& raw = ur->GetStringReference(*unknown, ud->FindFieldByName("raw"), nullptr);
  if (!object->ParsePartialFromString(raw)) {
    return Status::InvalidArgument(fmt::format("malformed protobuf {}", found->kind));
  }
  BYOK_ASSIGN_OR_RETURN(json fields, MessageToJson(*object));
  json out = {{"apiVersion", api_version}, {"kind", kind}};
  out.update(fields);
  try {
    (void)out.dump();  // strict: throws on invalid UTF-8
  } catch (const json::exception&) {
    return Status::InvalidArgument("a string of the protobuf body is not valid UTF-8");
  }
  return out;
}

}  // namespace byok::kube
