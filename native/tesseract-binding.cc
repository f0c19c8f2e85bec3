// A small N-API binding to the system's libtesseract (Debian libtesseract-dev): one TessBaseAPI per
// engine handle, the model loaded once from bytes the caller passes (the same traineddata
// tesseract.js reads), each page recognised on the libuv thread pool so the event loop stays free.
// The JS side (activities/native-ocr.ts) never runs two pages on one handle at once.
// Built by scripts/build-native-ocr.js with the system compiler, Node's own headers and no download.
#include <node_api.h>

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include <memory>
#include <string>
#include <vector>

namespace {

struct Box {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

struct Word {
  std::string text;
  float confidence = 0;
  Box box;
};

struct Line {
  std::string text;
  float confidence = 0;
  Box box;
  std::vector<Word> words;
};

struct Engine {
  tesseract::TessBaseAPI api;
  bool busy = false;
  bool ended = false;
};

struct Job {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref image_ref = nullptr;
  napi_ref engine_ref = nullptr;
  Engine *engine = nullptr;
  const unsigned char *image = nullptr;
  size_t image_size = 0;
  // Results, filled on the pool thread and read on the JS thread.
  std::string error;
  std::string text;
  int confidence = 0;
  std::vector<Line> lines;
};

#define CHECK(call)                                                  \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_error(env, nullptr, "tesseract binding: " #call);   \
      return nullptr;                                                \
    }                                                                \
  } while (0)

std::string TakeText(char *text) {
  std::string out = text ? text : "";
  delete[] text;
  return out;
}

Box BoxAt(tesseract::ResultIterator *it, tesseract::PageIteratorLevel level) {
  Box box;
  it->BoundingBox(level, &box.x0, &box.y0, &box.x1, &box.y1);
  return box;
}

void Recognize(napi_env, void *data) {
  auto *job = static_cast<Job *>(data);
  Pix *pix = pixReadMem(job->image, job->image_size);
  if (!pix) {
    job->error = "the image could not be decoded";
    return;
  }
  tesseract::TessBaseAPI &api = job->engine->api;
  api.SetImage(pix);
  if (api.Recognize(nullptr) != 0) {
    job->error = "recognition failed";
  } else {
    job->text = TakeText(api.GetUTF8Text());
    job->confidence = api.MeanTextConf();
    std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
    if (it && !it->Empty(tesseract::RIL_WORD)) {
      do {
        if (it->Empty(tesseract::RIL_WORD)) continue;
        if (job->lines.empty() || it->IsAtBeginningOf(tesseract::RIL_TEXTLINE)) {
          Line line;
          line.text = TakeText(it->GetUTF8Text(tesseract::RIL_TEXTLINE));
          line.confidence = it->Confidence(tesseract::RIL_TEXTLINE);
          line.box = BoxAt(it.get(), tesseract::RIL_TEXTLINE);
          job->lines.push_back(std::move(line));
        }
        Word word;
        word.text = TakeText(it->GetUTF8Text(tesseract::RIL_WORD));
        word.confidence = it->Confidence(tesseract::RIL_WORD);
        word.box = BoxAt(it.get(), tesseract::RIL_WORD);
        job->lines.back().words.push_back(std::move(word));
      } while (it->Next(tesseract::RIL_WORD));
    }
  }
  // Frees the page's recognition results and the image now, not at the next page.
  api.Clear();
  pixDestroy(&pix);
}

napi_value String(napi_env env, const std::string &value) {
  napi_value out;
  napi_create_string_utf8(env, value.data(), value.size(), &out);
  return out;
}

napi_value Number(napi_env env, double value) {
  napi_value out;
  napi_create_double(env, value, &out);
  return out;
}

napi_value BoxValue(napi_env env, const Box &box) {
  napi_value out;
  napi_create_array_with_length(env, 4, &out);
  const int values[] = {box.x0, box.y0, box.x1, box.y1};
  for (uint32_t i = 0; i < 4; i++) napi_set_element(env, out, i, Number(env, values[i]));
  return out;
}

napi_value Entry(napi_env env, const std::string &text, float confidence, const Box &box) {
  napi_value out;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "text", String(env, text));
  napi_set_named_property(env, out, "confidence", Number(env, confidence));
  napi_set_named_property(env, out, "box", BoxValue(env, box));
  return out;
}

void Complete(napi_env env, napi_status, void *data) {
  std::unique_ptr<Job> job(static_cast<Job *>(data));
  job->engine->busy = false;
  napi_delete_reference(env, job->image_ref);
  napi_delete_reference(env, job->engine_ref);
  napi_delete_async_work(env, job->work);
  if (!job->error.empty()) {
    napi_value message, error;
    napi_create_string_utf8(env, job->error.c_str(), NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, nullptr, message, &error);
    napi_reject_deferred(env, job->deferred, error);
    return;
  }
  napi_value result, lines;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "text", String(env, job->text));
  napi_set_named_property(env, result, "confidence", Number(env, job->confidence));
  napi_create_array_with_length(env, job->lines.size(), &lines);
  for (uint32_t i = 0; i < job->lines.size(); i++) {
    const Line &line = job->lines[i];
    napi_value value = Entry(env, line.text, line.confidence, line.box), words;
    napi_create_array_with_length(env, line.words.size(), &words);
    for (uint32_t j = 0; j < line.words.size(); j++) {
      const Word &word = line.words[j];
      napi_set_element(env, words, j, Entry(env, word.text, word.confidence, word.box));
    }
    napi_set_named_property(env, value, "words", words);
    napi_set_element(env, lines, i, value);
  }
  napi_set_named_property(env, result, "lines", lines);
  napi_resolve_deferred(env, job->deferred, result);
}

void Finalize(napi_env, void *data, void *) {
  auto *engine = static_cast<Engine *>(data);
  if (!engine->ended) engine->api.End();
  delete engine;
}

Engine *EngineOf(napi_env env, napi_value value) {
  void *data = nullptr;
  if (napi_get_value_external(env, value, &data) != napi_ok || !data) {
    napi_throw_type_error(env, nullptr, "not a tesseract engine");
    return nullptr;
  }
  return static_cast<Engine *>(data);
}

std::string StringArg(napi_env env, napi_value value) {
  size_t length = 0;
  napi_get_value_string_utf8(env, value, nullptr, 0, &length);
  std::string out(length, '\0');
  napi_get_value_string_utf8(env, value, out.data(), length + 1, &length);
  return out;
}

// createEngine(traineddata: Buffer, language: string, parameters: Record<string, string>): Engine
napi_value CreateEngine(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  CHECK(napi_get_cb_info(env, info, &argc, args, nullptr, nullptr));
  void *model = nullptr;
  size_t model_size = 0;
  if (argc < 3 || napi_get_buffer_info(env, args[0], &model, &model_size) != napi_ok) {
    napi_throw_type_error(env, nullptr, "createEngine(traineddata, language, parameters)");
    return nullptr;
  }
  const std::string language = StringArg(env, args[1]);
  std::vector<std::string> names, values;
  napi_value keys;
  uint32_t count = 0;
  CHECK(napi_get_property_names(env, args[2], &keys));
  CHECK(napi_get_array_length(env, keys, &count));
  for (uint32_t i = 0; i < count; i++) {
    napi_value key, value;
    napi_get_element(env, keys, i, &key);
    napi_get_property(env, args[2], key, &value);
    names.push_back(StringArg(env, key));
    values.push_back(StringArg(env, value));
  }
  auto *engine = new Engine();
  // Parameters go in at Init: some (the page segmentation mode among them) are read only there.
  if (engine->api.Init(static_cast<const char *>(model), static_cast<int>(model_size), language.c_str(),
                       tesseract::OEM_LSTM_ONLY, nullptr, 0, &names, &values, false, nullptr) != 0) {
    delete engine;
    napi_throw_error(env, nullptr, "tesseract could not load the traineddata");
    return nullptr;
  }
  for (size_t i = 0; i < names.size(); i++) engine->api.SetVariable(names[i].c_str(), values[i].c_str());
  napi_value out;
  CHECK(napi_create_external(env, engine, Finalize, nullptr, &out));
  return out;
}

// recognize(engine: Engine, image: Buffer): Promise<{ text, confidence, lines }>
napi_value RecognizeAsync(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  CHECK(napi_get_cb_info(env, info, &argc, args, nullptr, nullptr));
  if (argc < 2) {
    napi_throw_type_error(env, nullptr, "recognize(engine, image)");
    return nullptr;
  }
  Engine *engine = EngineOf(env, args[0]);
  if (!engine) return nullptr;
  if (engine->busy || engine->ended) {
    napi_throw_error(env, nullptr, engine->ended ? "this engine is closed" : "this engine is already recognising a page");
    return nullptr;
  }
  auto job = std::make_unique<Job>();
  void *image = nullptr;
  if (napi_get_buffer_info(env, args[1], &image, &job->image_size) != napi_ok) {
    napi_throw_type_error(env, nullptr, "the image must be a Buffer");
    return nullptr;
  }
  job->image = static_cast<const unsigned char *>(image);
  job->engine = engine;
  napi_value promise, name;
  CHECK(napi_create_promise(env, &job->deferred, &promise));
  // The buffer is read and the engine used on the pool thread: the references keep both alive
  // until Complete, even if the caller drops them meanwhile.
  CHECK(napi_create_reference(env, args[1], 1, &job->image_ref));
  CHECK(napi_create_reference(env, args[0], 1, &job->engine_ref));
  CHECK(napi_create_string_utf8(env, "tesseract.recognize", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, nullptr, name, Recognize, Complete, job.get(), &job->work));
  CHECK(napi_queue_async_work(env, job->work));
  engine->busy = true;
  job.release();
  return promise;
}

// destroy(engine): frees the model now rather than at garbage collection (a no-op while a page runs:
// the finalizer frees it then).
napi_value Destroy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  CHECK(napi_get_cb_info(env, info, &argc, args, nullptr, nullptr));
  Engine *engine = argc < 1 ? nullptr : EngineOf(env, args[0]);
  if (!engine) return nullptr;
  if (!engine->busy && !engine->ended) {
    engine->api.End();
    engine->ended = true;
  }
  return nullptr;
}

napi_value Version(napi_env env, napi_callback_info) {
  return String(env, tesseract::TessBaseAPI::Version());
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"createEngine", nullptr, CreateEngine, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"recognize", nullptr, RecognizeAsync, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"destroy", nullptr, Destroy, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"version", nullptr, Version, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
