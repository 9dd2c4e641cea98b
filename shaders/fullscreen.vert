#version 330 core
// One triangle that covers the viewport, from gl_VertexID alone (no vertex buffer).
// uv runs 0..1 over the viewport; v = 0 is texture row 0, the first row of uploaded arrays.
out vec2 uv;

void main() {
    vec2 corner = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    uv = corner;
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
