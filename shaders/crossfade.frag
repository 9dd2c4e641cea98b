#version 330 core
// Cross-fade: blends what was on screen when the newest keyframe arrived into that keyframe.
uniform sampler2D held;      // the canvas as it was when the current keyframe arrived
uniform sampler2D current;   // the newest keyframe
uniform float progress;      // 0 shows `held`, 1 shows `current`

in vec2 uv;
out vec4 color;

void main() {
    color = mix(texture(held, uv), texture(current, uv), clamp(progress, 0.0, 1.0));
}
