// Progressive enhancement of the upload form: files dropped on the form join the file input,
// and the upload shows its progress. Without JavaScript the form posts as it is.
(function () {
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var input = document.getElementById("file");
  var bar = document.getElementById("upload-progress");
  form.addEventListener("dragover", function (event) { event.preventDefault(); });
  form.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) input.files = event.dataTransfer.files;
  });
  form.addEventListener("submit", function (event) {
    if (!input.files.length) return;
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    bar.hidden = false;
    request.upload.addEventListener("progress", function (progress) {
      if (progress.lengthComputable) bar.value = Math.round(100 * progress.loaded / progress.total);
    });
    request.addEventListener("load", function () {
      var target = new URL(request.responseURL, location.href);
      if (target.pathname !== new URL(form.action, location.href).pathname) {
        location.assign(target.href); // filed: the record's page
        return;
      }
      document.open(); // refused: the form again, with what was typed and the reason
      document.write(request.responseText);
      document.close();
    });
    request.send(new FormData(form));
  });
})();
