// The dashboard's only script: a file chosen in an <input type=file data-fills=ID> is read
// into the textarea #ID, so flow and site files can be imported without a multipart upload.
// Everything works without it (paste the file instead).
document.addEventListener('change', (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== 'file' || !input.dataset.fills) return;
  const target = document.getElementById(input.dataset.fills);
  const file = input.files && input.files[0];
  if (!target || !file) return;
  file.text().then((text) => { target.value = text; });
});
